import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka, Message } from 'kafkajs';

/** Percentiles of a sample, in its unit; NaN for an empty one. */
export function percentiles(
  values: readonly number[],
  ps: readonly number[] = [50, 95, 99, 99.99],
): Record<string, number> {
  const sorted = Float64Array.from(values).sort();
  const out: Record<string, number> = {};
  for (const p of ps) {
    out[`p${p}`] =
      sorted.length === 0
        ? NaN
        : round(
            sorted[
              Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
            ] as number,
            2,
          );
  }
  return out;
}

/** The hops of a probe's way, each between two instants this machine's clock stamped. */
export const PROBE_HOPS = ['ingestion', 'membership', 'delivery'] as const;
export type ProbeHop = (typeof PROBE_HOPS)[number];

/**
 * One probe's way through the pipeline, in ms since the epoch: sent upstream by the bench, its
 * profile change handed to the producer by ingestion (the record's create time), its transition
 * handed to the producer by membership (likewise), the transition consumed by the bench.
 */
export interface ProbeTrip {
  readonly sent: number;
  readonly changed: number;
  readonly decided: number;
  readonly arrived: number;
}

export interface HopBreakdown {
  /** Probes whose every instant was seen. */
  readonly probes: number;
  /** p50 / p99 of each hop over all probes. */
  readonly hopsMs: Record<ProbeHop, Record<string, number>>;
  /** Over the slowest 1% of probes (by their whole way), the median of each hop. */
  readonly slowestMs: Record<ProbeHop, number>;
}

const hopOf = (trip: ProbeTrip, hop: ProbeHop): number =>
  hop === 'ingestion'
    ? trip.changed - trip.sent
    : hop === 'membership'
      ? trip.decided - trip.changed
      : trip.arrived - trip.decided;

/** Where a probe's latency went, hop by hop: which stage a tail comes from. */
export function hopBreakdown(trips: readonly ProbeTrip[]): HopBreakdown {
  const byTotal = [...trips].sort((a, b) => a.arrived - a.sent - (b.arrived - b.sent));
  const slowest = byTotal.slice(Math.floor(byTotal.length * 0.99));
  const hopsMs = {} as Record<ProbeHop, Record<string, number>>;
  const slowestMs = {} as Record<ProbeHop, number>;
  for (const hop of PROBE_HOPS) {
    hopsMs[hop] = percentiles(
      trips.map((t) => hopOf(t, hop)),
      [50, 99],
    );
    slowestMs[hop] = percentiles(
      slowest.map((t) => hopOf(t, hop)),
      [50],
    )['p50'] as number;
  }
  return { probes: trips.length, hopsMs, slowestMs };
}

export const round = (value: number, digits = 1): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/** The 1-minute load average now. */
export const load = (): number => round(loadavg()[0] ?? 0, 2);

export const seconds = (fromMs: number, toMs = Date.now()): number => (toMs - fromMs) / 1000;

/** Sends records in requests of `batch`, acknowledged by all replicas. */
export async function produceAll(
  kafka: Kafka,
  topic: string,
  records: readonly Message[],
  batch = 1_000,
): Promise<void> {
  // idempotent: a send retried after a lost answer does not write the records twice
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += batch) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + batch) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * A plain consume→produce copy with the settings Shoal's own consumer and producer use (batches,
 * four partitions at a time, an idempotent producer acknowledged by all replicas): records/s
 * from its first batch until `count` records were copied.
 */
export async function passThrough(
  kafka: Kafka,
  from: string,
  to: string,
  count: number,
  groupId: string,
): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: from, fromBeginning: true });
  let copied = 0;
  let first = 0;
  let last = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      first ||= Date.now();
      for (let i = 0; i < batch.messages.length; i += 1_000) {
        await producer.send({
          topic: to,
          acks: -1,
          messages: batch.messages.slice(i, i + 1_000).map((m) => ({ key: m.key, value: m.value })),
        });
      }
      copied += batch.messages.length;
      if (copied >= count) {
        last ||= Date.now();
        finished();
      }
    },
  });
  await done;
  await consumer.disconnect();
  await producer.disconnect();
  return count / seconds(first, last);
}

/** Records a consumer group has committed on a topic (sum over partitions). */
export async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** The end offsets of a topic (sum over partitions): records ever written to it. */
export async function written(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/** Waits until `check` holds, polling; false when the deadline passed first. */
export async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** Result of a query load: calls, errors, rate and latency percentiles in ms. */
export interface QueryLoad {
  /** Calls answered OK in the counted window. */
  readonly calls: number;
  /** Calls answered before it, in the warm-up. */
  readonly warmupCalls: number;
  readonly errors: number;
  readonly seconds: number;
  readonly qps: number;
  readonly latencyMs: Record<string, number>;
  readonly load: number;
}
