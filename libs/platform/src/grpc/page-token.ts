import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/domain-error';

/**
 * Opaque cursor tokens for list calls: where the last page ended, bound to the query that
 * produced it (a token used with different filters is refused rather than silently wrong).
 */
export function encodePageToken(position: unknown, query: unknown): string {
  return Buffer.from(JSON.stringify({ p: position, q: fingerprint(query) })).toString('base64url');
}

export function decodePageToken<T>(
  token: string,
  query: unknown,
  field = 'page.pageToken',
): T | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      p: T;
      q: string;
    };
    if (parsed.q === fingerprint(query)) return parsed.p;
  } catch {
    // fall through to the error
  }
  throw new ValidationError([
    { field, description: 'is not a token from a previous page of this same query' },
  ]);
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

function fingerprint(query: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(query, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('base64url')
    .slice(0, 16);
}

/**
 * One page from up to `limit + 1` fetched items: the first `limit`, and a token for the next page
 * when there was one more (positioned after the page's last item).
 */
export function pageOf<T, P>(
  fetched: readonly T[],
  limit: number,
  positionOf: (last: T) => P,
  query: unknown,
): { items: T[]; nextPageToken: string } {
  const items = fetched.slice(0, limit);
  const last = items[items.length - 1];
  const more = fetched.length > limit && last !== undefined;
  return { items, nextPageToken: more ? encodePageToken(positionOf(last), query) : '' };
}
