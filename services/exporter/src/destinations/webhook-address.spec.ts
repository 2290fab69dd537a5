import { WebhookAddressPolicy, allowListOf } from './webhook-address';

const resolving = (answers: Record<string, string[]>) => async (host: string) => {
  const found = answers[host];
  if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('WebhookAddressPolicy', () => {
  const strict = new WebhookAddressPolicy(allowListOf([]));

  it.each([
    '127.0.0.1',
    '127.3.2.1',
    '10.0.0.5',
    '172.16.8.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
  ])('refuses %s', (address) => {
    expect(strict.permits(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('permits %s', (address) => {
    expect(strict.permits(address)).toBe(true);
  });

  it('permits a refused address inside the allow-list, and nothing beside it', () => {
    const allowing = new WebhookAddressPolicy(allowListOf(['127.0.0.1/32', '10.20.0.0/16']));
    expect(allowing.permits('127.0.0.1')).toBe(true);
    expect(allowing.permits('10.20.9.9')).toBe(true);
    expect(allowing.permits('127.0.0.2')).toBe(false);
    expect(allowing.permits('10.21.0.1')).toBe(false);
  });

  it('refuses a bad allow-list entry', () => {
    expect(() => allowListOf(['10.0.0.0'])).toThrow('not a CIDR block');
    expect(() => allowListOf(['10.0.0.0/33'])).toThrow('not a CIDR block');
    expect(() => allowListOf(['intranet/8'])).toThrow('not a CIDR block');
  });

  it('refuses a host if any one of its addresses is refused', async () => {
    const policy = new WebhookAddressPolicy(
      allowListOf([]),
      resolving({
        'hooks.example.com': ['93.184.216.34'],
        'mixed.example.com': ['93.184.216.34', '10.0.0.7'],
        'metadata.google.internal': ['169.254.169.254'],
      }),
    );
    expect(await policy.refusal('hooks.example.com')).toBeUndefined();
    expect(await policy.refusal('mixed.example.com')).toContain('10.0.0.7');
    expect(await policy.refusal('metadata.google.internal')).toContain('169.254.169.254');
    expect(await policy.refusal('nowhere.example.com')).toContain('does not resolve');
    expect(await policy.refusal('[::1]')).toContain('::1');
    expect(await policy.refusal('127.0.0.1')).toContain('127.0.0.1');
  });

  it("refuses at connection time what the host resolves to then, through the request's lookup", async () => {
    const policy = new WebhookAddressPolicy(
      allowListOf([]),
      resolving({ 'rebound.example.com': ['127.0.0.1'], 'ok.example.com': ['93.184.216.34'] }),
    );
    const lookup = (host: string, all: boolean) =>
      new Promise((resolve, reject) =>
        policy.lookup(host, { all }, (error, address) =>
          error ? reject(error) : resolve(address),
        ),
      );
    await expect(lookup('rebound.example.com', false)).rejects.toThrow('127.0.0.1');
    await expect(lookup('ok.example.com', false)).resolves.toBe('93.184.216.34');
    await expect(lookup('ok.example.com', true)).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
    ]);
  });
});
