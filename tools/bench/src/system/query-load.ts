import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type QueryLoad, load, percentiles, round } from './measures';
import type { QueryWorkerResult, QueryWorkerTask } from './query-worker';

/** A query load spread over `threads` worker threads, each with channels of its own. */
export interface QueryLoadSpec extends Omit<QueryWorkerTask, 'callers' | 'rate' | 'offset'> {
  readonly threads: number;
}

/**
 * `callers` callers, each calling as soon as its previous call answered (closed loop), split
 * over the threads.
 */
export function closedQueryLoad(spec: QueryLoadSpec, callers: number): Promise<QueryLoad> {
  return spread(spec, (thread) => ({
    callers: share(callers, spec.threads, thread),
    rate: 0,
  }));
}

/**
 * Calls at a fixed offered rate whether or not earlier calls answered (open loop), each latency
 * counted from the instant its call was due, so a stall is not hidden by waiting callers.
 */
export function openQueryLoad(spec: QueryLoadSpec, rate: number): Promise<QueryLoad> {
  return spread(spec, () => ({ callers: 0, rate: rate / spec.threads }));
}

/** Thread `index`'s part of `total` split over `parts`, the first ones taking the remainder. */
export function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

async function spread(
  spec: QueryLoadSpec,
  part: (thread: number) => Pick<QueryWorkerTask, 'callers' | 'rate'>,
): Promise<QueryLoad> {
  const { threads, ...common } = spec;
  const stride = Math.floor(spec.requests.length / threads);
  const results = await Promise.all(
    Array.from({ length: threads }, (_, thread) =>
      runWorker({ ...common, ...part(thread), offset: thread * stride }),
    ),
  );
  // the threads' counted windows (after their warm-up) run side by side
  const took = Math.max(...results.map((r) => r.seconds));
  const latencies = results.flatMap((r) => Array.from(r.latencies));
  return {
    calls: latencies.length,
    warmupCalls: results.reduce((sum, r) => sum + r.warmupCalls, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    seconds: round(took, 2),
    qps: Math.round(latencies.length / took),
    latencyMs: percentiles(latencies, [50, 95, 99, 99.9]),
    load: load(),
  };
}

function runWorker(task: QueryWorkerTask): Promise<QueryWorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'query-worker.js'), { workerData: task });
    worker.once('message', (result: QueryWorkerResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`a query load thread exited with ${code}`));
    });
  });
}
