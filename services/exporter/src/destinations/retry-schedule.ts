/** How long to wait before attempt `attempt + 1` of a delivery. */
export interface RetrySchedule {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Longest a receiver's Retry-After is honoured for; a longer one is cut to this. */
  readonly maxRetryAfterMs: number;
}

/**
 * Exponential backoff with full jitter (a random wait up to base × 2^(attempt−1), capped), so
 * receivers recovering from an outage are not hit by every sender at once; a receiver's own
 * Retry-After wins when it gave one.
 */
export function delayBeforeRetry(
  schedule: RetrySchedule,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, schedule.maxRetryAfterMs);
  const ceiling = Math.min(schedule.maxMs, schedule.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(random() * ceiling);
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable.
 */
export function retryAfterMs(header: string | null | undefined, now: Date): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
