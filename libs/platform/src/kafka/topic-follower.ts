import { randomBytes } from 'node:crypto';
import type { TopicSpec } from '@shoal/contracts';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { retry } from '../time/retry';
import { classifyFailure } from './failures';
import type { TopicNames } from './topics';

const IDLE_CATCH_UP_MS = 10_000;

/**
 * Reads a whole topic as one process's private view — every partition, from the first retained
 * record — then keeps following it: for things every instance must know in full (compacted
 * definitions, broadcast commands). It commits nothing and uses a group of its own, so every
 * instance (and every start) reads everything. `start` resolves once the records that were on
 * the topic when it started have been handled.
 */
export class TopicFollower {
  private consumer?: Consumer;
  private failed?: Error;

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
    const ends = await fetchTopicEnds(kafka, topic);
    const pending = new Map<number, bigint>();
    for (const { partition, high, low } of ends) {
      if (BigInt(high) > BigInt(low)) pending.set(partition, BigInt(high));
    }
    let caughtUp: () => void = () => undefined;
    let lastProgress = Date.now();
    const reachedEnd = new Promise<void>((resolve) => {
      caughtUp = resolve;
      if (pending.size === 0) resolve();
    });
    // A partition whose last offsets hold no record (compacted tombstones) never delivers its end
    // offset: once nothing has arrived for a while, what was there has been read.
    const idle = setInterval(() => {
      if (Date.now() - lastProgress < IDLE_CATCH_UP_MS) return;
      logger.warn({ topic, partitions: [...pending.keys()] }, 'caught up by idleness');
      pending.clear();
      caughtUp();
    }, 1_000);
    void reachedEnd.then(() => clearInterval(idle));
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
        const end = pending.get(batch.partition);
        const last = batch.messages[batch.messages.length - 1];
        if (end !== undefined && last !== undefined && BigInt(last.offset) + 1n >= end) {
          pending.delete(batch.partition);
          if (pending.size === 0) caughtUp();
        }
      },
    });
    await reachedEnd;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
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
