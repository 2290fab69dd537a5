import type { TopicSpec } from '@shoal/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import type { Clock } from '../time/clock';
import { coPartitionedAssigner } from './co-partitioned-assigner';
import { ConsumerRestarts, type RestartBackoff, describeDown } from './consumer-restarts';
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
  readonly clock: Clock;
  readonly partitionsConsumedConcurrently?: number;
  /** How soon a consumer that went down is recreated (default DEFAULT_RESTART_BACKOFF). */
  readonly restartBackoff?: RestartBackoff;
  /**
   * Told when partitions could not be released (`revoke` failed): their state in memory can no
   * longer be trusted, and only a process restart helps.
   */
  readonly onStuck?: (reason: string) => void;
}

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
 * A consumer kafkajs gives up on, or whose partitions failed to load, goes down: its partitions
 * are released (revoked, dropped without a checkpoint) and a new consumer rejoins the group
 * after a bounded, jittered backoff, loading what it is assigned again from the checkpoints
 * (with a new owner epoch). Health fails while it is down and until assigned partitions are
 * loaded.
 */
export class PartitionedProcessor {
  /** Replaced by a new one when it goes down. */
  private consumer: Consumer;
  private readonly restarts: ConsumerRestarts;
  private readonly lanes = new SerialLanes<number>();
  /** Partitions checkpointing at about the same time share offset commit requests. */
  private readonly commits: OffsetCommits;
  private owned = new Set<number>();
  /** Assigned partitions whose state is still loading (and by which load): their records wait, health fails. */
  private readonly loading = new Map<number, Promise<void>>();
  private state: 'joining' | 'running' | 'rebalancing' | 'crashed' | 'stopped' = 'joining';
  private lastError = '';
  private readonly consumed;
  /** Settles once the partitions released when the consumer last went down are revoked. */
  private released: Promise<void> = Promise.resolve();

  constructor(private readonly options: PartitionedProcessorOptions) {
    this.restarts = new ConsumerRestarts({
      group: this.groupId,
      restart: () => this.recreate(),
      clock: options.clock,
      logger: options.logger,
      metrics: options.metrics,
      ...(options.restartBackoff ? { backoff: options.restartBackoff } : {}),
    });
    this.consumer = this.createConsumer();
    // always the current consumer's: a checkpoint from before a recreation commits through the new one
    this.commits = new OffsetCommits((offsets) => this.consumer.commitOffsets(offsets));
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

  /** For readiness: throws when the consumer cannot make progress or its partitions are not loaded yet. */
  health(): string {
    const down = this.restarts.down;
    if (down) throw new Error(describeDown(this.groupId, down));
    if (this.state === 'crashed')
      throw new Error(`consumer ${this.groupId} crashed: ${this.lastError}`);
    if (this.state !== 'running' && this.state !== 'rebalancing')
      throw new Error(`consumer ${this.groupId} is ${this.state}`);
    if (this.loading.size > 0)
      throw new Error(
        `consumer ${this.groupId} is loading partitions ${[...this.loading.keys()].sort((a, b) => a - b).join(', ')}`,
      );
    return `owns partitions ${[...this.owned].sort((a, b) => a - b).join(', ') || '(none)'}`;
  }

  async start(): Promise<void> {
    await this.run(this.consumer);
  }

  /** Stops fetching, leaving the group once the batches in hand are done. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.restarts.stop();
    await this.consumer.disconnect();
  }

  private async run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    for (const topic of this.options.topics) {
      await consumer.subscribe({ topic: this.options.names.of(topic), fromBeginning: true });
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  private createConsumer(): Consumer {
    const { options } = this;
    const consumer = options.kafka.consumer({
      groupId: this.groupId,
      partitionAssigners: [coPartitionedAssigner],
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 2 * 1024 * 1024,
    });
    // a consumer replaced since says nothing about the current one
    const current = () => consumer === this.consumer && this.state !== 'stopped';
    const { CRASH, GROUP_JOIN, REBALANCING } = consumer.events;
    consumer.on(CRASH, ({ payload }) => {
      if (!current()) return;
      this.lastError = payload.error.message;
      options.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (payload.restart) this.state = 'joining';
      else this.goDown(`kafkajs gave up on it: ${payload.error.message}`);
    });
    consumer.on(REBALANCING, () => {
      if (current()) this.state = 'rebalancing';
    });
    consumer.on(GROUP_JOIN, ({ payload }) => {
      if (!current()) return;
      this.state = 'running';
      this.restarts.joined();
      const assigned = new Set<number>();
      for (const partitions of Object.values(payload.memberAssignment)) {
        for (const partition of partitions) assigned.add(partition);
      }
      this.reassign(assigned);
    });
    return consumer;
  }

  /**
   * The consumer cannot go on (kafkajs gave up on it, or partitions failed to load): release
   * every partition and recreate the consumer after a backoff.
   */
  private goDown(reason: string): void {
    this.state = 'crashed';
    this.lastError = reason;
    this.released = this.release();
    // awaited by the recreation; a failure is reported by release itself
    this.released.catch(() => undefined);
    this.restarts.gaveUp(reason);
  }

  /** Revokes every owned partition in its lane (after its work in hand); drops nothing twice. */
  private release(): Promise<void> {
    const partitions = [...this.owned];
    this.owned = new Set();
    this.loading.clear();
    const { work, logger } = this.options;
    return Promise.all(
      partitions.map((partition) => this.lanes.run(partition, () => work.revoke([partition]))),
    ).then(
      () => {
        if (partitions.length > 0) logger.info({ partitions }, 'partitions released');
      },
      (error: unknown) => {
        const reason = `releasing partitions ${partitions.join(', ')} failed: ${(error as Error).message}`;
        logger.error({ err: error, partitions }, 'releasing partitions failed');
        this.options.onStuck?.(reason);
        throw new Error(reason);
      },
    );
  }

  /**
   * Leaves the group with the consumer that went down (kafkajs has, when it gave up), waits for
   * its partitions to be released, then joins again with a new consumer; what it is assigned
   * loads from the checkpoints.
   */
  private async recreate(): Promise<void> {
    if (this.stopped) return;
    await this.consumer.disconnect().catch(() => undefined);
    await this.released;
    // stop() may have come meanwhile
    if (this.stopped) return;
    this.consumer = this.createConsumer();
    this.state = 'joining';
    this.options.logger.info({ group: this.groupId }, 'consumer recreated; joining its group');
    await this.run(this.consumer);
  }

  /** Stops fetching new batches (the work in hand finishes); for a clean shutdown's last checkpoint. */
  pause(): void {
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
    for (const partition of revoked) this.loading.delete(partition);
    if (added.length === 0) return;
    logger.info({ partitions: added, revoked }, 'partitions assigned');
    const consumer = this.consumer;
    const loading = work.assign(added);
    for (const partition of added) this.loading.set(partition, loading);
    for (const partition of added) {
      void this.lanes.run(partition, () => loading).catch(() => undefined);
    }
    loading.then(
      () => {
        for (const partition of added) {
          if (this.loading.get(partition) === loading) this.loading.delete(partition);
        }
      },
      (error: unknown) => {
        logger.error({ err: error, partitions: added }, 'loading partitions failed');
        if (consumer === this.consumer && this.state !== 'stopped' && this.state !== 'crashed')
          this.goDown(`loading partitions ${added.join(', ')} failed: ${(error as Error).message}`);
      },
    );
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 3_000);
    try {
      await this.lanes.run(batch.partition, async () => {
        if (!this.owned.has(batch.partition) || !isRunning() || isStale()) return;
        await this.options.work.process({
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages,
        });
        resolveOffset((batch.messages[batch.messages.length - 1] as KafkaMessage).offset);
        this.consumed.inc({ topic: batch.topic, group: this.groupId }, batch.messages.length);
      });
    } finally {
      clearInterval(beat);
    }
    await heartbeat().catch(() => undefined);
  }
}
