import { status } from '@grpc/grpc-js';
import { GrpcCallError, retry } from '@shoal/platform';

/**
 * How long the demo waits at the start for membership to know its segments: one just made
 * reaches membership through the definitions topic, and until then membership answers NOT_FOUND.
 */
const KNOWN_TIMEOUT_MS = 60_000;
/** What a first count is tried again for, until KNOWN_TIMEOUT_MS. */
const NOT_YET = new Set<status>([status.NOT_FOUND, status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);
const RETRY_MS = 500;

/**
 * The counts the board starts from, once membership knows every segment (see KNOWN_TIMEOUT_MS);
 * says once that it waits.
 */
export async function firstCounts(
  count: () => Promise<void>,
  options: { out(line: string): void; readonly signal: AbortSignal; readonly timeoutMs?: number },
): Promise<void> {
  await retry(count, {
    timeoutMs: options.timeoutMs ?? KNOWN_TIMEOUT_MS,
    delayMs: RETRY_MS,
    signal: options.signal,
    permanent: (error) =>
      error instanceof GrpcCallError && NOT_YET.has(error.code) ? undefined : (error as Error),
    onRetry: ({ error, attempt }) => {
      if (attempt === 1)
        options.out(`waiting for membership to take in the segments (${briefly(error)})`);
    },
  });
}

/** An error on one line of the board. */
export function briefly(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
