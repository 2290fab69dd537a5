import { lookup as dnsLookup } from 'node:dns';
import { BlockList, type LookupFunction, isIP } from 'node:net';

/**
 * Addresses a webhook may not reach unless allowed (SSRF): this host, private networks,
 * link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 included), carrier-grade NAT,
 * benchmarking, multicast and reserved ranges, and IPv4 written as IPv6.
 */
const REFUSED_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const;
const REFUSED_V6 = [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const;

/** One resolved address. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address a host name resolves to. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** Thrown when a webhook's host is (or resolves to) an address it may not reach. */
export class RefusedAddressError extends Error {
  readonly code = 'EADDRREFUSED';
}

/** Parses "10.1.0.0/16, 127.0.0.1/32, fd00::/8" into a block list; throws on a bad entry. */
export function allowListOf(cidrs: readonly string[]): BlockList {
  const allowed = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits] = cidr.split('/');
    const family = isIP(address);
    const prefix = Number(bits);
    const max = family === 4 ? 32 : 128;
    if (
      family === 0 ||
      bits === undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > max
    )
      throw new Error(`not a CIDR block: "${cidr}"`);
    allowed.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return allowed;
}

// one list per family: a BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules
const refused = { ipv4: new BlockList(), ipv6: new BlockList() };
for (const [address, prefix] of REFUSED_V4) refused.ipv4.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of REFUSED_V6) refused.ipv6.addSubnet(address, prefix, 'ipv6');

/**
 * Which addresses webhooks may reach: every public one, and refused ranges only where the
 * operator's allow-list (EXPORTER_WEBHOOK_ALLOWED_CIDRS) says so. Checked when a webhook is
 * saved (its host resolved, every address checked) and again at every connection (the lookup
 * the request uses checks what it connects to, so a name re-pointed after saving is refused too).
 */
export class WebhookAddressPolicy {
  constructor(
    private readonly allowed: BlockList,
    private readonly resolver: Resolver = systemResolver,
  ) {}

  /** Whether one IP address may be reached. */
  permits(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    return !refused[type].check(address, type) || this.allowed.check(address, type);
  }

  /**
   * Resolves a URL's host and checks every address; answers why it is refused, or undefined.
   * An IP literal is checked as it is.
   */
  async refusal(hostname: string): Promise<string | undefined> {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    let addresses: readonly ResolvedAddress[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await this.resolver(host);
      } catch {
        return `host ${host} does not resolve`;
      }
    }
    if (addresses.length === 0) return `host ${host} does not resolve`;
    const blocked = addresses.find((a) => !this.permits(a.address));
    return blocked
      ? `${host === blocked.address ? host : `${host} resolves to ${blocked.address}`}: a private, loopback, link-local or reserved address (see EXPORTER_WEBHOOK_ALLOWED_CIDRS)`
      : undefined;
  }

  /** A `lookup` for http.request that resolves as usual and refuses a refused address. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolver(hostname).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = addresses.filter((a) => family === 0 || a.family === family);
        const blocked = usable.find((a) => !this.permits(a.address));
        const first = usable[0];
        if (blocked)
          return callback(
            new RefusedAddressError(
              `${hostname} resolves to ${blocked.address}, an address webhooks may not reach`,
            ),
            '',
          );
        if (!first) return callback(new Error(`${hostname} does not resolve`), '');
        if (options.all) return callback(null, usable as never);
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}
