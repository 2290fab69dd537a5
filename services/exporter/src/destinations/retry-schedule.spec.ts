import { delayBeforeRetry, retryAfterMs } from './retry-schedule';

const schedule = { baseMs: 100, maxMs: 1_000, maxRetryAfterMs: 5_000 };

describe('retry schedule', () => {
  it('waits up to base × 2^(attempt − 1), jittered', () => {
    expect(delayBeforeRetry(schedule, 1, undefined, () => 1)).toBe(100);
    expect(delayBeforeRetry(schedule, 3, undefined, () => 1)).toBe(400);
    expect(delayBeforeRetry(schedule, 3, undefined, () => 0.5)).toBe(200);
    expect(delayBeforeRetry(schedule, 3, undefined, () => 0)).toBe(0);
  });

  it('never waits longer than the maximum', () => {
    expect(delayBeforeRetry(schedule, 40, undefined, () => 1)).toBe(1_000);
  });

  it("honours the receiver's Retry-After, up to its cap", () => {
    expect(delayBeforeRetry(schedule, 1, 3_000, () => 0)).toBe(3_000);
    expect(delayBeforeRetry(schedule, 1, 60_000, () => 0)).toBe(5_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 30 Nov 2026 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
