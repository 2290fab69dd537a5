import { randomBytes } from 'node:crypto';
import type { TopicSpec } from '@shoal/contracts';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { answerWithin } from '../time/answer-within';
import { retry } from '../time/retry';
import { classifyFailure } from './failures';
import type { TopicNames } from './topics';

const IDLE_CATCH_UP_MS = 10_000;

/**
 * How long a question naming something a service has not read from a followed topic (a segment
 * created a moment ago) waits for the topic to be read to its end before it counts as unknown.
 */
export const CATCH_UP_TIMEOUT_MS = 2_000;

/** Reads a followed topic up to its current end (TopicFollower.readToEnd). */
export interface TopicCatchUp {
  /**
   * True once every record on the topic when it was called has been handled; false after
   * `timeoutMs` or when the topic's ends cannot be read.
   */
  readToEnd(timeoutMs: number): Promise<boolean>;
}

/** Offsets per partition. */
type Offsets = ReadonlyMap<number, bigint>;

/** A caller of `readToEnd` waiting for the follower to reach `ends`. */
interface EndWaiter {
  readonly ends: Offsets;
  readonly resolve: (reached: boolean) => void;
}

/**
 * Reads a whole topic as one process's private view — every partition, from the first retained
 * record — then keeps following it: for things every instance must know in full (compacted
 * definitions, broadcast commands). It commits nothing and uses a group of its own, so every
 * instance (and every start) reads everything. `start` resolves once the records that were on
 * the topic when it started have been handled.
 */
export class TopicFollower implements TopicCatchUp {
  private consumer?: Consumer;
  private failed?: Error;
  /** Per partition, the offset after the last record handled. */
  private readonly positions = new Map<number, bigint>();
  private readonly waiters = new Set<EndWaiter>();
  /** The latest read of the topic's ends, and when it started (performance.now()). */
  private ends?: { readonly startedAt: number; readonly read: Promise<Offsets> };
  /** The read that starts once the latest one is done, shared by everyone waiting for it. */
  private nextEnds?: Promise<Offsets>;
  private admin?: Promise<Admin>;
  /**
   * Ends a wait ran out at without the partition moving: records the broker counts but never
   * delivers (a compacted tail of tombstones). Reaching the same end again is not waited for.
   */
  private readonly unreachable = new Map<number, { readonly end: bigint; readonly at: bigint }>();
  private stopped = false;

  constructor(
    private readonly options: {
      readonly kafka: Kafka;
      readonly names: TopicNames;
      readonly topic: TopicSpec;
      /** Names the private group (a random suffix is added). */
      readonly name: string;
      readonly logger: Logger;
      /**
       * Handles records of one partition in order; after an error the batch is delivered again,
       * and the follower reports not ready (see health) until it went through.
       */
      readonly handle: (messages: KafkaMessage[], partition: number) => Promise<void>;
    },
  ) {}

  health(): string {
    if (this.failed) throw new Error(`following ${this.topicName} failed: ${this.failed.message}`);
    return `following ${this.topicName}`;
  }

  private get topicName(): string {
    return this.options.names.of(this.options.topic);
  }

  async start(): Promise<void> {
    const { kafka, names, name, logger, handle } = this.options;
    const topic = this.topicName;
    const began = performance.now();
    const ends = endsOf(await fetchTopicEnds(kafka, topic));
    let records = 0;
    let lastProgress = Date.now();
    const consumer = kafka.consumer({
      groupId: names.group(`${name}-${randomBytes(6).toString('hex')}`),
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        try {
          await handle(batch.messages, batch.partition);
        } catch (error) {
          this.failed = error as Error;
          logger.error({ err: error, topic }, 'following a topic failed');
          throw error;
        }
        // kafkajs delivers a failed batch again: once it went through, the follower is whole
        this.failed = undefined;
        lastProgress = Date.now();
        records += batch.messages.length;
        const last = batch.messages[batch.messages.length - 1];
        if (last !== undefined) this.handled(batch.partition, BigInt(last.offset) + 1n);
      },
    });
    // A partition whose last offsets hold no record (compacted tombstones) never delivers its end
    // offset: once nothing has arrived for a while, what was there has been read.
    const idle = new AbortController();
    const idleCheck = setInterval(() => {
      if (Date.now() - lastProgress < IDLE_CATCH_UP_MS) return;
      logger.warn({ topic }, 'caught up by idleness');
      idle.abort();
    }, 1_000);
    await this.waitUntilReached(ends, idle.signal).finally(() => clearInterval(idleCheck));
    logger.info(
      { topic, records, ms: Math.round(performance.now() - began) },
      'read the followed topic to its end',
    );
  }

  /**
   * Resolves true once every record that was on the topic when it was called has been handled
   * (read-your-writes for whatever was published before), false if that takes longer than
   * `timeoutMs` or the topic's ends cannot be read. Callers at the same moment share one read
   * of the ends, so a flood of calls costs the broker one request at a time.
   */
  async readToEnd(timeoutMs: number): Promise<boolean> {
    if (this.stopped) return false;
    const deadline = performance.now() + timeoutMs;
    let ends: Offsets;
    try {
      ends = await answerWithin(
        this.endsReadSince(performance.now()),
        timeoutMs,
        () => new Error(`the broker did not answer within ${timeoutMs} ms`),
      );
    } catch (error) {
      this.options.logger.warn(
        { err: error, topic: this.topicName },
        'could not read the topic’s ends to catch up with',
      );
      return false;
    }
    if (this.reached(ends)) return true;
    const remaining = deadline - performance.now();
    if (remaining <= 0) return false;
    return this.waitUntilReached(ends, AbortSignal.timeout(Math.ceil(remaining)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiter of [...this.waiters]) waiter.resolve(false);
    const admin = this.admin;
    this.admin = undefined;
    await Promise.all([
      this.consumer?.disconnect(),
      admin?.then(
        (a) => a.disconnect(),
        () => undefined,
      ),
    ]);
  }

  /**
   * True once every partition reached its end in `ends`; false when `giveUp` aborts first (the
   * ends not reached are then remembered as unreachable) or the follower stops.
   */
  private waitUntilReached(ends: Offsets, giveUp: AbortSignal): Promise<boolean> {
    if (this.reached(ends)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const abandon = () => {
        this.rememberUnreachable(ends);
        waiter.resolve(false);
      };
      const waiter: EndWaiter = {
        ends,
        resolve: (reached) => {
          giveUp.removeEventListener('abort', abandon);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      giveUp.addEventListener('abort', abandon, { once: true });
      this.waiters.add(waiter);
    });
  }

  private handled(partition: number, next: bigint): void {
    if ((this.positions.get(partition) ?? 0n) >= next) return;
    this.positions.set(partition, next);
    for (const waiter of [...this.waiters]) if (this.reached(waiter.ends)) waiter.resolve(true);
  }

  private reached(ends: Offsets): boolean {
    for (const [partition, end] of ends) {
      const at = this.positions.get(partition) ?? 0n;
      if (at >= end) continue;
      const stuck = this.unreachable.get(partition);
      if (stuck !== undefined && stuck.end === end && stuck.at === at) continue;
      return false;
    }
    return true;
  }

  private rememberUnreachable(ends: Offsets): void {
    for (const [partition, end] of ends) {
      const at = this.positions.get(partition) ?? 0n;
      if (at < end) this.unreachable.set(partition, { end, at });
    }
  }

  /** A read of the topic's ends that started at or after `since`. */
  private endsReadSince(since: number): Promise<Offsets> {
    if (this.ends !== undefined && this.ends.startedAt >= since) return this.ends.read;
    if (this.nextEnds !== undefined) return this.nextEnds;
    const previous = this.ends?.read.then(
      () => undefined,
      () => undefined,
    );
    const next = (previous ?? Promise.resolve()).then(() => {
      const read = this.readEnds();
      this.ends = { startedAt: performance.now(), read };
      this.nextEnds = undefined;
      return read;
    });
    this.nextEnds = next;
    return next;
  }

  /** The topic's end offsets of partitions that hold records, on one admin client kept for it. */
  private async readEnds(): Promise<Offsets> {
    if (this.stopped) throw new Error('the follower has stopped');
    const admin = (this.admin ??= this.connectAdmin());
    try {
      return endsOf(await (await admin).fetchTopicOffsets(this.topicName));
    } catch (error) {
      // a fresh client next time, rather than one left in an unknown state
      if (this.admin === admin) this.admin = undefined;
      void admin.then(
        (a) => a.disconnect(),
        () => undefined,
      );
      throw error;
    }
  }

  private async connectAdmin(): Promise<Admin> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    return admin;
  }
}

/** The end offsets of the partitions that hold records. */
function endsOf(offsets: readonly { partition: number; high: string; low: string }[]): Offsets {
  const ends = new Map<number, bigint>();
  for (const { partition, high, low } of offsets)
    if (BigInt(high) > BigInt(low)) ends.set(partition, BigInt(high));
  return ends;
}

/**
 * Reads the records of some partitions of a topic between given offsets (from inclusive, up to
 * the partition's end when reading starts), with a private group that commits nothing.
 */
export async function readPartitionRanges({
  kafka,
  names,
  topic,
  ranges,
  logger,
  timeoutMs = 60_000,
}: {
  kafka: Kafka;
  names: TopicNames;
  topic: TopicSpec;
  ranges: ReadonlyMap<number, number>;
  logger: Logger;
  timeoutMs?: number;
}): Promise<Map<number, KafkaMessage[]>> {
  const name = names.of(topic);
  const out = new Map<number, KafkaMessage[]>();
  const ends = await fetchTopicEnds(kafka, name);
  const wanted = new Map<number, { from: number; to: number }>();
  for (const { partition, high, low } of ends) {
    const from = ranges.get(partition);
    if (from === undefined) continue;
    const start = Math.max(from, Number(low));
    if (start < Number(high)) wanted.set(partition, { from: start, to: Number(high) });
    out.set(partition, []);
  }
  if (wanted.size === 0) return out;
  const consumer = kafka.consumer({
    groupId: names.group(`range-reader-${randomBytes(6).toString('hex')}`),
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: name, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${name} ranges timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const remaining = new Set(wanted.keys());
      void consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const range = wanted.get(batch.partition);
            if (range === undefined || !remaining.has(batch.partition)) return;
            for (const message of batch.messages) {
              const offset = Number(message.offset);
              if (offset >= range.from && offset < range.to)
                out.get(batch.partition)?.push(message);
            }
            const last = batch.messages[batch.messages.length - 1];
            if (last !== undefined && Number(last.offset) + 1 >= range.to) {
              remaining.delete(batch.partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            }
          },
        })
        .then(() => {
          for (const [partition, range] of wanted)
            consumer.seek({ topic: name, partition, offset: String(range.from) });
          const others = ends.map((e) => e.partition).filter((p) => !wanted.has(p));
          if (others.length > 0) consumer.pause([{ topic: name, partitions: others }]);
        }, reject);
    });
    await done;
  } finally {
    await consumer
      .disconnect()
      .catch((error: unknown) => logger.warn({ err: error }, 'disconnect'));
  }
  return out;
}

/** How long reading a topic's offsets keeps retrying failures the broker says are passing. */
const TOPIC_ENDS_TIMEOUT_MS = 30_000;

/**
 * A topic's offsets per partition. Failures that pass (a partition without a leader yet, just
 * after the topic was created; a broker moving) are retried for a bounded time; others throw.
 */
export async function fetchTopicEnds(
  kafka: Kafka,
  topic: string,
  timeoutMs = TOPIC_ENDS_TIMEOUT_MS,
): Promise<{ partition: number; offset: string; high: string; low: string }[]> {
  return retry(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      return admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    },
    {
      timeoutMs,
      delayMs: 100,
      maxDelayMs: 2_000,
      permanent: (error) => (classifyFailure(error) === 'transient' ? undefined : (error as Error)),
    },
  );
}
