import { runInNewContext } from 'node:vm';
import { retry, waitUntil } from './retry';

/** An attempt that fails `failures` times, then answers `value`; counts its calls. */
function failingTimes<T>(failures: number, value: T, error = (n: number) => new Error(`no ${n}`)) {
  const calls = { count: 0 };
  const attempt = async () => {
    calls.count += 1;
    if (calls.count <= failures) throw error(calls.count);
    return value;
  };
  return { calls, attempt };
}

describe('retry', () => {
  it('answers the result of the first attempt that succeeds', async () => {
    const { calls, attempt } = failingTimes(3, 'done');
    await expect(retry(attempt, { timeoutMs: 10_000, delayMs: 1 })).resolves.toBe('done');
    expect(calls.count).toBe(4);
  });

  it('throws the last failure when the time is up', async () => {
    let last: Error | undefined;
    const attempt = async () => {
      last = new Error(`failure at ${performance.now()}`);
      throw last;
    };
    const outcome = await retry(attempt, { timeoutMs: 50, delayMs: 5 }).catch((e: unknown) => e);
    expect(outcome).toBe(last);
  });

  it('tells of every failure it retries, not of the last one', async () => {
    const retried: number[] = [];
    let attempts = 0;
    await retry(
      () => {
        attempts += 1;
        throw new Error('down');
      },
      { timeoutMs: 50, delayMs: 5, onRetry: ({ attempt }) => retried.push(attempt) },
    ).catch(() => undefined);
    expect(attempts).toBeGreaterThan(1);
    expect(retried).toEqual(Array.from({ length: attempts - 1 }, (_, i) => i + 1));
  });

  it('stops at once with the error a permanent failure maps to', async () => {
    const refused = new Error('credentials refused');
    const { calls, attempt } = failingTimes(5, 'never', () => new Error('auth failed'));
    const outcome = retry(attempt, {
      timeoutMs: 10_000,
      delayMs: 1,
      permanent: (error) => ((error as Error).message === 'auth failed' ? refused : undefined),
    });
    await expect(outcome).rejects.toBe(refused);
    expect(calls.count).toBe(1);
  });

  it('does not retry a TypeError, which is a bug, but does retry a network failure', async () => {
    const bug = failingTimes(1, 'never', () => new TypeError("cannot read 'x' of undefined"));
    await expect(retry(bug.attempt, { timeoutMs: 10_000, delayMs: 1 })).rejects.toThrow(TypeError);
    expect(bug.calls.count).toBe(1);

    const network = failingTimes(2, 'up', () => new TypeError('fetch failed'));
    await expect(retry(network.attempt, { timeoutMs: 10_000, delayMs: 1 })).resolves.toBe('up');
  });

  it('retries errors made in another realm, as Node throws them into jest (fetch, timeouts)', async () => {
    const foreign = [
      runInNewContext('new TypeError("fetch failed")') as unknown,
      runInNewContext('new Error("connection refused")') as unknown,
      { name: 'TimeoutError', message: 'The operation was aborted due to timeout' },
    ];
    expect(foreign[0] instanceof Error).toBe(false);
    let calls = 0;
    const attempt = async () => {
      if (calls < foreign.length) throw foreign[calls++];
      return 'up';
    };
    await expect(retry(attempt, { timeoutMs: 10_000, delayMs: 1 })).resolves.toBe('up');
  });

  it('fails at once on a TypeError made in another realm that is not a network failure', async () => {
    const bug = runInNewContext('new TypeError("x is not a function")') as unknown;
    let calls = 0;
    const outcome = retry(
      () => {
        calls += 1;
        throw bug;
      },
      { timeoutMs: 10_000, delayMs: 1 },
    );
    await expect(outcome).rejects.toMatchObject({
      name: 'TypeError',
      message: 'x is not a function',
    });
    expect(calls).toBe(1);
  });

  it('ends the wait between attempts when its signal aborts', async () => {
    const stop = new AbortController();
    const outcome = retry(
      () => {
        throw new Error('not yet');
      },
      {
        timeoutMs: 3_600_000,
        delayMs: 3_600_000,
        signal: stop.signal,
        onRetry: () => stop.abort(new Error('interrupted')),
      },
    );
    await expect(outcome).rejects.toThrow('interrupted');
  });

  it('ends an attempt under way when its signal aborts, without waiting for the attempt', async () => {
    const stop = new AbortController();
    const outcome = retry(
      () => {
        stop.abort(new Error('interrupted'));
        return new Promise<never>(() => undefined);
      },
      { timeoutMs: 3_600_000, delayMs: 1, signal: stop.signal },
    );
    await expect(outcome).rejects.toThrow('interrupted');
  });

  it('tells each attempt how much time is left', async () => {
    const remaining: number[] = [];
    await retry(
      ({ remainingMs }) => {
        remaining.push(remainingMs);
        if (remaining.length < 3) throw new Error('again');
      },
      { timeoutMs: 10_000, delayMs: 5 },
    );
    expect(remaining[0]).toBeLessThanOrEqual(10_000);
    expect(remaining[2]).toBeLessThan(remaining[0] as number);
  });

  describe('with a maximum delay', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('doubles the wait after each failure up to the maximum', async () => {
      const startedAt = Date.now();
      const at: number[] = [];
      const outcome = retry(
        () => {
          at.push(Date.now() - startedAt);
          if (at.length < 6) throw new Error('down');
          return at;
        },
        { timeoutMs: 60_000, delayMs: 100, maxDelayMs: 400 },
      );
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(outcome).resolves.toEqual([0, 100, 300, 700, 1_100, 1_500]);
    });
  });
});

describe('waitUntil', () => {
  it('answers true once the condition holds', async () => {
    let looks = 0;
    await expect(
      waitUntil(() => ++looks === 3, { timeoutMs: 10_000, intervalMs: 1 }),
    ).resolves.toBe(true);
    expect(looks).toBe(3);
  });

  it('answers false when the condition still does not hold after the timeout', async () => {
    await expect(waitUntil(async () => false, { timeoutMs: 30, intervalMs: 5 })).resolves.toBe(
      false,
    );
  });

  it('ends with the error the condition throws', async () => {
    let looks = 0;
    const broken = waitUntil(
      () => {
        looks += 1;
        throw new Error('cannot tell');
      },
      { timeoutMs: 10_000, intervalMs: 1 },
    );
    await expect(broken).rejects.toThrow('cannot tell');
    expect(looks).toBe(1);
  });
});
