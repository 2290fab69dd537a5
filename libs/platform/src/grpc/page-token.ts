import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { DEV_KEY_ID_PREFIX } from '../auth/principal';
import { ConfigError } from '../config/config';
import { ValidationError } from '../errors/domain-error';

/** Longer tokens are refused unread: no token this code mints comes near it. */
const MAX_TOKEN_LENGTH = 2_048;
const MIN_SECRET_BYTES = 32;

/**
 * One list call's page tokens: a name binding them to that call, and the schema of the position
 * they carry. A decoded position is validated against it, so whatever a token holds reaches the
 * store only as the values the schema allows (never as a query operator).
 */
export interface PageCursor<S extends z.ZodType> {
  readonly name: string;
  readonly position: S;
}

export function pageCursor<S extends z.ZodType>(name: string, position: S): PageCursor<S> {
  return { name, position };
}

/**
 * Opaque cursor tokens for list calls: where the last page ended, bound to the list call and
 * the query that produced it, and signed (HMAC-SHA256) so only this service's replicas mint them.
 * A forged, changed or foreign token is refused rather than silently wrong.
 */
export class PageTokens {
  private readonly signingKey: Buffer;
  private readonly verifyingKeys: readonly Buffer[];

  /** The first secret signs; every one of them verifies (so a new one can be rolled out). */
  constructor(secrets: readonly [string, ...string[]]) {
    const keys = secrets.map(deriveKey);
    this.signingKey = keys[0] as Buffer;
    this.verifyingKeys = keys;
  }

  encode<S extends z.ZodType>(cursor: PageCursor<S>, position: z.input<S>, query: unknown): string {
    const payload = Buffer.from(JSON.stringify({ p: position, q: fingerprint(cursor, query) }));
    return `${payload.toString('base64url')}.${mac(this.signingKey, payload).toString('base64url')}`;
  }

  /** The position a token carries; undefined for no token (the first page). */
  decode<S extends z.ZodType>(
    cursor: PageCursor<S>,
    token: string,
    query: unknown,
    field = 'page.pageToken',
  ): z.output<S> | undefined {
    if (!token) return undefined;
    const found = this.read(cursor, token, query);
    if (!found) {
      throw new ValidationError([
        { field, description: 'is not a token from a previous page of this same query' },
      ]);
    }
    return found.position;
  }

  /**
   * One page from up to `limit + 1` fetched items: the first `limit`, and a token for the next
   * page when there was one more (positioned after the page's last item).
   */
  pageOf<T, S extends z.ZodType>(
    cursor: PageCursor<S>,
    fetched: readonly T[],
    limit: number,
    positionOf: (last: T) => z.input<S>,
    query: unknown,
  ): { items: T[]; nextPageToken: string } {
    const items = fetched.slice(0, limit);
    const last = items[items.length - 1];
    const more = fetched.length > limit && last !== undefined;
    return { items, nextPageToken: more ? this.encode(cursor, positionOf(last), query) : '' };
  }

  private read<S extends z.ZodType>(
    cursor: PageCursor<S>,
    token: string,
    query: unknown,
  ): { position: z.output<S> } | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) return undefined;
    const payload = Buffer.from(body, 'base64url');
    const presented = Buffer.from(signature, 'base64url');
    const signed = this.verifyingKeys.some((key) => {
      const expected = mac(key, payload);
      return expected.length === presented.length && timingSafeEqual(expected, presented);
    });
    if (!signed) return undefined;
    let parsed: { p?: unknown; q?: unknown };
    try {
      parsed = JSON.parse(payload.toString('utf8')) as { p?: unknown; q?: unknown };
    } catch {
      return undefined;
    }
    if (parsed.q !== fingerprint(cursor, query)) return undefined;
    const position = cursor.position.safeParse(parsed.p);
    return position.success ? { position: position.data } : undefined;
  }
}

/** A page size within bounds: 0 means the default. */
export function pageSize(
  requested: number,
  fallback: number,
  max: number,
  field = 'page.pageSize',
): number {
  if (requested < 0) throw new ValidationError([{ field, description: 'must not be negative' }]);
  return requested === 0 ? fallback : Math.min(requested, max);
}

/**
 * The page-token secrets in PAGE_TOKEN_SECRET_FILE: one per line, the first signing. Each must
 * be at least 32 bytes; production refuses development secrets.
 */
export async function loadPageTokenSecrets(
  file: string,
  environment: string,
  variable = 'PAGE_TOKEN_SECRET_FILE',
): Promise<[string, ...string[]]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      { variable, message: `cannot read ${file}: ${(error as Error).message}` },
    ]);
  }
  const secrets = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const refuse = (message: string) => new ConfigError([{ variable, message }]);
  const [first, ...rest] = secrets;
  if (first === undefined) throw refuse(`${file} holds no secret`);
  if (secrets.some((s) => Buffer.byteLength(s) < MIN_SECRET_BYTES)) {
    throw refuse(`every secret in ${file} needs at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (environment === 'production' && secrets.some((s) => s.startsWith(DEV_KEY_ID_PREFIX))) {
    throw refuse('holds a development secret; production needs a real one');
  }
  return [first, ...rest];
}

function deriveKey(secret: string): Buffer {
  // a key of its own, even where an operator reuses the secret for something else
  return Buffer.from(hkdfSync('sha256', secret, '', 'shoal page token v1', 32));
}

function mac(key: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

function fingerprint(cursor: PageCursor<z.ZodType>, query: unknown): string {
  return createHash('sha256')
    .update(cursor.name)
    .update('\0')
    .update(JSON.stringify(query, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('base64url')
    .slice(0, 22);
}
