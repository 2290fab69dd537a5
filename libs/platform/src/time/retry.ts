export interface RetryOptions {
  /** Gives up once this long has passed since the first attempt, with the last attempt's error. */
  readonly timeoutMs: number;
  /** The wait after the first failure. */
  readonly delayMs: number;
  /** When given, each further wait doubles, up to this; otherwise every wait is `delayMs`. */
  readonly maxDelayMs?: number;
  /** Ends the retrying at once, with the signal's reason: a wait, or an attempt under way (left to end unheard). */
  readonly signal?: AbortSignal;
  /**
   * For a failure that retrying cannot fix: the error to stop with at once. A `TypeError` that is
   * not a network failure is a bug, never retried either.
   */
  readonly permanent?: (error: unknown) => Error | undefined;
  /** Told of each failure that is retried, before the wait. */
  readonly onRetry?: (failure: { readonly error: Error; readonly attempt: number }) => void;
}

export interface RetryAttempt {
  /** 1 for the first. */
  readonly attempt: number;
  /** Time left before `timeoutMs` runs out, e.g. to bound the attempt itself. */
  readonly remainingMs: number;
}

/**
 * Runs `attempt` until it succeeds, waiting between failures, and answers its result; the one
 * retry loop of Shoal (p-retry underneath). It throws the last failure when the time is up.
 */
export async function retry<T>(
  attempt: (context: RetryAttempt) => Promise<T> | T,
  options: RetryOptions,
): Promise<T> {
  // p-retry is an ES module: loaded the way CommonJS code can (require(esm) on Node >= 20.19)
  const { default: pRetry, AbortError } = await import('p-retry');
  const startedAt = performance.now();
  const { timeoutMs, delayMs, maxDelayMs, signal, permanent, onRetry } = options;
  const retrying = pRetry(
    async (attemptNumber) => {
      try {
        const remainingMs = Math.max(0, timeoutMs - (performance.now() - startedAt));
        return await attempt({ attempt: attemptNumber, remainingMs });
      } catch (error) {
        const stop = permanent?.(error);
        throw stop ? new AbortError(stop) : ofThisRealm(error);
      }
    },
    {
      retries: Number.POSITIVE_INFINITY,
      maxRetryTime: timeoutMs,
      minTimeout: delayMs,
      factor: maxDelayMs === undefined ? 1 : 2,
      maxTimeout: maxDelayMs ?? delayMs,
      ...(signal ? { signal } : {}),
      shouldRetry: ({ error, attemptNumber }) => {
        onRetry?.({ error, attempt: attemptNumber });
        return true;
      },
    },
  );
  return signal ? untilAborted(retrying, signal) : retrying;
}

/** The promise's outcome, or the signal's reason as soon as it aborts (the promise is left to end). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  let onAbort = () => undefined as void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() =>
    signal.removeEventListener('abort', onAbort),
  );
}

export interface WaitUntilOptions {
  readonly timeoutMs: number;
  /** Between two looks at the condition. */
  readonly intervalMs: number;
  readonly signal?: AbortSignal;
}

class NotYet extends Error {}

/**
 * Looks at `condition` until it holds: true then, false when it still does not after
 * `timeoutMs`. An error thrown by the condition ends the wait with that error.
 */
export async function waitUntil(
  condition: () => Promise<boolean> | boolean,
  { timeoutMs, intervalMs, signal }: WaitUntilOptions,
): Promise<boolean> {
  try {
    await retry(
      async () => {
        if (!(await condition())) throw new NotYet();
      },
      {
        timeoutMs,
        delayMs: intervalMs,
        ...(signal ? { signal } : {}),
        permanent: (error) => (error instanceof NotYet ? undefined : ofThisRealm(error)),
      },
    );
    return true;
  } catch (error) {
    if (error instanceof NotYet) return false;
    throw error;
  }
}

/**
 * p-retry takes only an `Error` of this realm (anything else fails at once as "Non-error was
 * thrown"). Errors of Node's own modules — fetch's `TypeError`, timeout `DOMException`s, `fs`
 * errors — are of another realm wherever code runs in a vm context, as jest runs tests; a value
 * that is not an error at all is retried as the old loops did. A TypeError stays one, so a
 * network failure is still retried and a bug still is not.
 */
function ofThisRealm(error: unknown): Error {
  if (error instanceof Error) return error;
  const { name, message, stack } = (error ?? {}) as Partial<Error>;
  const text = typeof message === 'string' ? message : String(error);
  const copy =
    name === 'TypeError'
      ? new TypeError(text, { cause: error })
      : new Error(text, { cause: error });
  if (typeof name === 'string') copy.name = name;
  if (typeof stack === 'string') copy.stack = stack;
  return copy;
}
