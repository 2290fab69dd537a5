import type { TopicSpec } from '@shoal/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import { coPartitionedAssigner } from './co-partitioned-assigner';
import { OffsetCommits } from './offset-commits';
import type { TopicNames } from './topics';

/** What a stateful, partitioned feature implements (see PartitionedProcessor). */
export interface PartitionWork {
  /** Takes ownership of newly assigned partitions (loads their state); their records wait for it. */
  assign(partitions: readonly number[]): Promise<void>;
  /** Lets go of partitions no longer owned; called in their lanes, after their work in hand. */
  revoke(partitions: readonly number[]): Promise<void>;
  /** One batch of one topic-partition, in offset order; resolves once its effects are done. */
  process(batch: { topic: string; partition: number; messages: KafkaMessage[] }): Promise<void>;
}

export interface PartitionedProcessorOptions {
  readonly kafka: Kafka;
  readonly names: TopicNames;
  /** Consumer group, without the deployment prefix. */
  readonly groupId: string;
  /** Co-partitioned topics (same key, same partition count). */
  readonly topics: readonly TopicSpec[];
  readonly work: PartitionWork;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly partitionsConsumedConcurrently?: number;
  /** Told when kafkajs stops restarting the consumer: only a process restart helps then. */
  readonly onGaveUp?: (reason: string) => void;
  /** Records fetched and waiting in a partition's lane before fetching that partition pauses. */
  readonly maxQueuedRecords?: number;
}

const DEFAULT_MAX_QUEUED_RECORDS = 5_000;
/** How long a partition whose batch failed waits before it is fetched again from that batch. */
const RETRY_AFTER_MS = 1_000;

/**
 * Runs one task at a time per key, in the order they were queued; a failed task does not stop
 * the ones after it (its caller gets the error).
 */
export class SerialLanes<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

/**
 * A consumer group over co-partitioned topics in the manner of Kafka Streams: partition i of
 * every topic is owned by one member (a custom assigner), and everything about a partition —
 * its batches from each topic, its assignment and revocation, and any task the feature queues
 * with `inLane` (timers, definition changes) — runs one at a time, in order. Offsets are never
 * committed automatically: the feature commits with `commit` once the effects up to them are
 * durable (its checkpoint), so a crash replays from the last checkpoint.
 *
 * Fetching runs ahead of the lanes: a fetched batch is queued in its partition's lane and the
 * next fetch goes out at once, so a partition busy with a slow task (a checkpoint, a refresh
 * chunk) holds only its own records, not every partition of the fetch round (kafkajs fetches
 * again only once every batch of a round is handled). A partition with `maxQueuedRecords`
 * waiting is paused until its lane catches up. A batch that fails drops the batches queued
 * behind it in its partition, and the partition is fetched again from the failed batch on;
 * after a rebalance, batches queued before it are dropped (the group starts again from the
 * committed offsets).
 */
export class PartitionedProcessor {
  private readonly consumer: Consumer;
  private readonly lanes = new SerialLanes<number>();
  /** Partitions checkpointing at about the same time share offset commit requests. */
  private readonly commits: OffsetCommits;
  private owned = new Set<number>();
  private state: 'joining' | 'running' | 'rebalancing' | 'crashed' | 'stopped' = 'joining';
  private lastError = '';
  private readonly consumed;
  private readonly maxQueuedRecords: number;
  /** Per partition: records queued in its lane, whether its fetching is paused, its run of batches. */
  private readonly queues = new Map<number, PartitionQueue>();
  /** Bumped at every join: batches queued before it belong to an earlier generation. */
  private generation = 0;
  private fetchingStopped = false;

  constructor(private readonly options: PartitionedProcessorOptions) {
    this.maxQueuedRecords = options.maxQueuedRecords ?? DEFAULT_MAX_QUEUED_RECORDS;
    this.consumer = options.kafka.consumer({
      groupId: options.names.group(options.groupId),
      partitionAssigners: [coPartitionedAssigner],
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 2 * 1024 * 1024,
      // new records end a fetch at once (minBytes 1); the wait bounds how long a partition
      // resumed after a pause waits for the fetch in flight without it
      maxWaitTimeInMs: 500,
    });
    this.commits = new OffsetCommits((offsets) => this.consumer.commitOffsets(offsets));
    const { CRASH, GROUP_JOIN, REBALANCING } = this.consumer.events;
    this.consumer.on(CRASH, ({ payload }) => {
      this.lastError = payload.error.message;
      if (this.state === 'stopped') return;
      this.state = payload.restart ? 'joining' : 'crashed';
      if (this.state === 'crashed')
        options.onGaveUp?.(`consumer ${this.groupId} crashed: ${payload.error.message}`);
      options.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
    this.consumer.on(REBALANCING, () => {
      if (this.state !== 'stopped') this.state = 'rebalancing';
    });
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      if (this.state === 'stopped') return;
      this.state = 'running';
      // the new generation fetches from the committed offsets: what was queued before is dropped
      this.generation++;
      const assigned = new Set<number>();
      for (const partitions of Object.values(payload.memberAssignment)) {
        for (const partition of partitions) assigned.add(partition);
      }
      this.reassign(assigned);
    });
    this.consumed = options.metrics.counter('shoal_kafka_consumed_total', 'records consumed', [
      'topic',
      'group',
    ]);
  }

  get groupId(): string {
    return this.options.names.group(this.options.groupId);
  }

  /** Partitions this member owns now. */
  get partitions(): ReadonlySet<number> {
    return this.owned;
  }

  /** False while the group rebalances (ownership is about to change) or after stop. */
  get settled(): boolean {
    return this.state === 'running';
  }

  /** For readiness: throws when the consumer cannot make progress. */
  health(): string {
    if (this.state === 'crashed')
      throw new Error(`consumer ${this.groupId} crashed: ${this.lastError}`);
    if (this.state !== 'running' && this.state !== 'rebalancing')
      throw new Error(`consumer ${this.groupId} is ${this.state}`);
    return `owns partitions ${[...this.owned].sort((a, b) => a - b).join(', ') || '(none)'}`;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic: this.options.names.of(topic), fromBeginning: true });
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Stops fetching, leaving the group once the batches in hand are done. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    await this.consumer.disconnect();
  }

  /** Stops fetching new batches (the work in hand finishes); for a clean shutdown's last checkpoint. */
  pause(): void {
    this.fetchingStopped = true;
    this.consumer.pause(
      this.options.topics.map((topic) => ({ topic: this.options.names.of(topic) })),
    );
  }

  /** Runs a task in a partition's lane, after everything queued for it. */
  inLane<T>(partition: number, task: () => Promise<T>): Promise<T> {
    return this.lanes.run(partition, task);
  }

  /**
   * Commits the next offsets to read of a partition's topics (topic spec name → offset), in a
   * request shared with the partitions committing at the same time.
   */
  async commit(partition: number, next: ReadonlyMap<TopicSpec, number>): Promise<void> {
    const offsets = [...next].map(([topic, offset]) => ({
      topic: this.options.names.of(topic),
      offset: String(offset),
    }));
    await Promise.all(
      offsets.map(({ topic, offset }) => this.commits.commit(topic, partition, offset)),
    );
  }

  private reassign(assigned: Set<number>): void {
    const revoked = [...this.owned].filter((p) => !assigned.has(p));
    const added = [...assigned].filter((p) => !this.owned.has(p));
    this.owned = assigned;
    const { work, logger } = this.options;
    for (const partition of revoked) {
      void this.lanes
        .run(partition, () => work.revoke([partition]))
        .catch((error: unknown) => logger.error({ err: error, partition }, 'revoke failed'));
    }
    if (added.length === 0) return;
    logger.info({ partitions: added, revoked }, 'partitions assigned');
    const loading = work.assign(added);
    for (const partition of added) {
      void this.lanes.run(partition, () => loading).catch(() => undefined);
    }
    loading.catch((error: unknown) => {
      this.lastError = `loading partitions failed: ${(error as Error).message}`;
      this.state = 'crashed';
      logger.error({ err: error, partitions: added }, 'loading partitions failed');
      this.options.onGaveUp?.(this.lastError);
    });
  }

  /**
   * Queues a batch in its partition's lane and returns, so the next fetch goes out while the
   * lane works; the fetch position moves past the batch at once (offsets are committed by the
   * feature's checkpoints, never here).
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const { topic, partition, messages } = batch;
    const last = messages[messages.length - 1];
    if (!last || !isRunning() || isStale()) return;
    const queue = this.queueOf(partition);
    const generation = this.generation;
    const run = queue.run;
    const queued: QueuedBatch = { topic, first: messages[0]?.offset ?? last.offset };
    resolveOffset(last.offset);
    queue.batches.add(queued);
    queue.records += messages.length;
    if (queue.records >= this.maxQueuedRecords) this.pausePartition(queue);
    void this.lanes
      .run(partition, async () => {
        // a batch of an earlier generation, or behind one that failed, is fetched again
        if (generation !== this.generation || run !== queue.run || !this.owned.has(partition))
          return;
        try {
          await this.options.work.process({ topic, partition, messages });
          this.consumed.inc({ topic, group: this.groupId }, messages.length);
        } catch (error) {
          this.options.logger.error(
            { err: error, topic, partition, offset: queued.first, retryInMs: RETRY_AFTER_MS },
            'batch failed; the partition is fetched again from it',
          );
          if (generation === this.generation) this.fetchAgainFrom(queue, queued);
        }
      })
      .finally(() => {
        queue.batches.delete(queued);
        queue.records -= messages.length;
        this.resumeIfDue(queue);
      })
      .catch((error: unknown) =>
        this.options.logger.error({ err: error, topic, partition }, 'batch not handled'),
      );
  }

  private queueOf(partition: number): PartitionQueue {
    let queue = this.queues.get(partition);
    if (queue === undefined) {
      queue = { partition, records: 0, batches: new Set(), paused: false, run: 0, waiting: false };
      this.queues.set(partition, queue);
    }
    return queue;
  }

  /**
   * After `failed` failed: drops the batches queued behind it (a new run), moves each topic's
   * fetch position of the partition back to its first batch not processed, and pauses the
   * partition for a while before it is fetched again.
   */
  private fetchAgainFrom(queue: PartitionQueue, failed: QueuedBatch): void {
    queue.run++;
    const from = new Map<string, string>();
    for (const queued of [failed, ...queue.batches]) {
      if (!from.has(queued.topic)) from.set(queued.topic, queued.first);
    }
    for (const [topic, offset] of from)
      this.consumer.seek({ topic, partition: queue.partition, offset });
    queue.waiting = true;
    this.pausePartition(queue);
    setTimeout(() => {
      queue.waiting = false;
      this.resumeIfDue(queue);
    }, RETRY_AFTER_MS).unref();
  }

  private pausePartition(queue: PartitionQueue): void {
    if (queue.paused) return;
    queue.paused = true;
    this.consumer.pause(this.topicPartitions(queue.partition));
  }

  private resumeIfDue(queue: PartitionQueue): void {
    if (!queue.paused || queue.waiting || queue.records >= this.maxQueuedRecords) return;
    queue.paused = false;
    // a clean shutdown paused every partition for good
    if (!this.fetchingStopped) this.consumer.resume(this.topicPartitions(queue.partition));
  }

  private topicPartitions(partition: number): { topic: string; partitions: number[] }[] {
    return this.options.topics.map((topic) => ({
      topic: this.options.names.of(topic),
      partitions: [partition],
    }));
  }
}

interface QueuedBatch {
  readonly topic: string;
  /** Its first offset. */
  readonly first: string;
}

interface PartitionQueue {
  readonly partition: number;
  /** Records fetched and not yet processed (or dropped). */
  records: number;
  /** Batches queued in the lane, in order. */
  readonly batches: Set<QueuedBatch>;
  paused: boolean;
  /** Bumped when a batch fails: the batches queued behind it are dropped (fetched again). */
  run: number;
  /** Waiting, after a failure, before it is fetched again. */
  waiting: boolean;
}
