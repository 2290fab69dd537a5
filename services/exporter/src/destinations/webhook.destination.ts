import { createHmac } from 'node:crypto';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { WebhookDestination } from '@shoal/contracts';
import { type Clock, type FieldViolation, secretValues } from '@shoal/platform';
import { type DeliveryBatch, DeliveryFailure, type DestinationKind } from './destination-kind';
import { retryAfterMs } from './retry-schedule';
import { RefusedAddressError, type WebhookAddressPolicy } from './webhook-address';

const DEFAULTS = { timeoutMs: 10_000, batchSize: 500, maxAttempts: 8 };
const LIMITS = { timeoutMs: 60_000, batchSize: 10_000, maxAttempts: 20 };
const MIN_SECRET_LENGTH = 16;
const MAX_URL_LENGTH = 2048;

/** The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = 'x-shoal-signature';

/** The HMAC-SHA256 signature of a body sent at `timestamp` (unix seconds). */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * Webhook destinations: each batch is POSTed as JSON ({ destinationId, segmentId, batchId,
 * full, records }), signed with the destination's secret so the receiver can check it came
 * from Shoal and was not replayed long after (the timestamp is signed too). 2xx is delivered;
 * 429 and 503 are retried after their Retry-After; 3xx and other 4xx are permanent (the same batch would
 * be refused again); everything else, timeouts included, is retried. Redirects are not
 * followed (a 3xx is a failure). The URL's host may not be a private, loopback, link-local or
 * metadata address unless the operator allows it (WebhookAddressPolicy): checked on save, and
 * at every connection against the address actually connected to.
 */
export class WebhookDestinationKind implements DestinationKind<'webhook'> {
  readonly kind = 'webhook' as const;
  readonly incremental = true;

  constructor(
    private readonly clock: Clock,
    private readonly addresses: WebhookAddressPolicy,
  ) {}

  async validateTarget(config: WebhookDestination): Promise<FieldViolation[]> {
    const refusal = await this.addresses.refusal(new URL(config.url).hostname);
    return refusal ? [{ field: 'config.webhook.url', description: refusal }] : [];
  }

  validate(config: WebhookDestination, stored: WebhookDestination | undefined): FieldViolation[] {
    const at = (field: string) => `config.webhook.${field}`;
    const violations: FieldViolation[] = [];
    let url: URL | undefined;
    try {
      url = new URL(config.url);
    } catch {
      violations.push({ field: at('url'), description: 'must be an absolute http(s) URL' });
    }
    if (url && url.protocol !== 'https:' && url.protocol !== 'http:')
      violations.push({ field: at('url'), description: 'must use http or https' });
    if (url && (url.username || url.password))
      violations.push({
        field: at('url'),
        description: 'must not carry credentials; the signing secret authenticates Shoal',
      });
    if (config.url.length > MAX_URL_LENGTH)
      violations.push({ field: at('url'), description: `at most ${MAX_URL_LENGTH} characters` });
    if (!config.signingSecret && !stored?.signingSecret)
      violations.push({ field: at('signingSecret'), description: 'is required' });
    if (config.signingSecret && config.signingSecret.length < MIN_SECRET_LENGTH)
      violations.push({
        field: at('signingSecret'),
        description: `at least ${MIN_SECRET_LENGTH} characters`,
      });
    for (const key of ['timeoutMs', 'batchSize', 'maxAttempts'] as const) {
      if (config[key] < 0 || config[key] > LIMITS[key])
        violations.push({ field: at(key), description: `between 0 and ${LIMITS[key]}` });
    }
    return violations;
  }

  normalised(config: WebhookDestination, stored: WebhookDestination | undefined) {
    const signingSecret = config.signingSecret || (stored?.signingSecret ?? '');
    return {
      ...config,
      signingSecret,
      signingSecretSet: signingSecret !== '',
      timeoutMs: config.timeoutMs || DEFAULTS.timeoutMs,
      batchSize: config.batchSize || DEFAULTS.batchSize,
      maxAttempts: config.maxAttempts || DEFAULTS.maxAttempts,
    };
  }

  redacted(config: WebhookDestination) {
    return { ...config, signingSecret: '', signingSecretSet: config.signingSecret !== '' };
  }

  /** The signing secret, and credentials a URL may carry in secret-named query parameters. */
  secrets(config: WebhookDestination): string[] {
    return [
      ...(config.signingSecret ? [config.signingSecret] : []),
      ...secretValues({ WEBHOOK_URL: config.url }),
    ];
  }

  batchSize(config: WebhookDestination): number {
    return config.batchSize || DEFAULTS.batchSize;
  }

  maxAttempts(config: WebhookDestination): number {
    return config.maxAttempts || DEFAULTS.maxAttempts;
  }

  async deliver(config: WebhookDestination, batch: DeliveryBatch, signal: AbortSignal) {
    const body = JSON.stringify({
      destinationId: batch.destinationId,
      segmentId: batch.segmentId,
      batchId: batch.runId,
      full: batch.full,
      records: batch.records,
    });
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const signature = webhookSignature(config.signingSecret, timestamp, body);
    const url = new URL(config.url);
    const refusal = isIPLiteral(url.hostname) ? await this.addresses.refusal(url.hostname) : '';
    if (refusal) throw new DeliveryFailure(refusal, { permanent: true });
    let response: { status: number; retryAfter: string | undefined };
    try {
      response = await post(url, {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'shoal-exporter',
          'x-shoal-batch-id': batch.runId,
          [SIGNATURE_HEADER]: `t=${timestamp},v1=${signature}`,
        },
        body,
        lookup: this.addresses.lookup,
        signal: AbortSignal.any([
          signal,
          AbortSignal.timeout(config.timeoutMs || DEFAULTS.timeoutMs),
        ]),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      // the host now resolves to a refused address: trying again will not change that soon
      throw new DeliveryFailure(`request failed: ${describe(error)}`, {
        permanent: error instanceof RefusedAddressError,
      });
    }
    const status = response.status;
    if (status >= 200 && status < 300) return;
    const wait = retryAfterMs(response.retryAfter, this.clock.now());
    if (status === 429 || status === 503)
      throw new DeliveryFailure(`HTTP ${status}`, wait === undefined ? {} : { retryAfterMs: wait });
    // a redirect is not followed: it would lead where the address checks did not look
    throw new DeliveryFailure(`HTTP ${status}`, {
      permanent:
        (status >= 300 && status < 400) || (status >= 400 && status < 500 && status !== 408),
    });
  }
}

const isIPLiteral = (hostname: string) => isIP(hostname.replace(/^\[(.*)\]$/, '$1')) !== 0;

/** One POST; the answer's status and Retry-After (the body is read and dropped). */
function post(
  url: URL,
  options: {
    headers: Record<string, string>;
    body: string;
    lookup: WebhookAddressPolicy['lookup'];
    signal: AbortSignal;
  },
): Promise<{ status: number; retryAfter: string | undefined }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body) },
        lookup: options.lookup,
        signal: options.signal,
      },
      (response: IncomingMessage) => {
        // the body is not needed; reading it frees the connection
        response.resume();
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: [response.headers['retry-after']].flat()[0],
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}
