import * as fs from 'node:fs';
import * as path from 'node:path';
import { retry } from '@shoal/platform';
import * as lockfile from 'proper-lockfile';
import { LocalInfraError, LocalInfraErrorCode } from './errors';

export interface WithLockOptions {
  /** Ends the wait for the lock, and is passed on to the action. */
  signal?: AbortSignal;
  /** Told once when the lock is held by someone else and this call starts waiting. */
  onWait?: () => void;
  /**
   * A holder that stops refreshing the lock for this long (crashed, killed, frozen) loses it to
   * the next taker; the live holder refreshes it every half of that.
   */
  staleMs?: number;
}

const DEFAULT_STALE_MS = 10_000;
const WAIT_INTERVAL_MS = 200;

/** proper-lockfile's options for a lock directory at `lockPath`, as every taker must use them. */
export function lockOptions(lockPath: string, staleMs: number): lockfile.LockOptions {
  return { lockfilePath: lockPath, realpath: false, stale: staleMs };
}

/**
 * Serialises `up`, `down` and provisioning across processes (two terminals, parallel test runs)
 * with a lock directory (proper-lockfile). The action's signal aborts when the caller's does, or
 * when the lock was lost meanwhile (its directory removed, or this process froze past `staleMs`),
 * since another process may then be doing the same work.
 */
export async function withLock<T>(
  lockPath: string,
  { signal, onWait, staleMs = DEFAULT_STALE_MS }: WithLockOptions,
  action: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const lost = new AbortController();
  const release = await retry(
    () =>
      lockfile.lock(lockPath, {
        ...lockOptions(lockPath, staleMs),
        onCompromised: (error) =>
          lost.abort(
            new LocalInfraError(
              LocalInfraErrorCode.LockLost,
              `lost the lock ${lockPath} (${error.message}): another shoal may be starting or stopping the same infrastructure`,
            ),
          ),
      }),
    {
      timeoutMs: Number.POSITIVE_INFINITY,
      delayMs: WAIT_INTERVAL_MS,
      ...(signal ? { signal } : {}),
      permanent: (error) => (isHeldElsewhere(error) ? undefined : (error as Error)),
      onRetry: ({ attempt }) => {
        if (attempt === 1) onWait?.();
      },
    },
  );
  try {
    return await action(signal ? AbortSignal.any([signal, lost.signal]) : lost.signal);
  } finally {
    if (!lost.signal.aborted) await release();
  }
}

function isHeldElsewhere(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ELOCKED';
}
