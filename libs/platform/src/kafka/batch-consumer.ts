import { KafkaHeaders, type TopicSpec } from '@shoal/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { DomainError } from '../errors/domain-error';
import type { Metrics } from '../metrics/metrics';
import type { Clock } from '../time/clock';
import { childContext, parseTraceparent, runInTrace } from '../tracing/trace-context';
import { ConsumerRestarts, type RestartBackoff, describeDown } from './consumer-restarts';
import { type DeadLetter, deadLetterRecord, inSendsOf, recordBytes } from './dead-letters';
import type { EventPublisher } from './event-publisher';
import { type FailureKind, classifyFailure, describeFailure } from './failures';
import { OffsetCommits } from './offset-commits';
import { PartitionProgress } from './partition-progress';
import { type ConsumedRecord, headersOf } from './records';
import type { TopicNames } from './topics';

/**
 * What a feature implements to consume a topic. `decode` turns a raw record into the value
 * the handler wants and throws a permanent DomainError for a record that can never be
 * processed; `handleBatch` applies a batch's effects and resolves only once they are durable
 * (or, with `commitWhenDurable`, says when they will be). Effects must be idempotent: after a
 * crash, records since the last commit are delivered again.
 */
export interface TopicHandler<T> {
  decode(message: KafkaMessage): T;
  handleBatch(records: readonly ConsumedRecord<T>[]): Promise<HandledBatch<T> | void>;
}

/** A record the handler refused for what it is, found only while handling it (e.g. against state). */
export interface RefusedRecord<T> {
  readonly record: ConsumedRecord<T>;
  /** Machine-readable, e.g. IDENTITY_LIMIT. */
  readonly reason: string;
  readonly error: string;
}

/** What a handler may say about a batch it handled besides "done". */
export interface HandledBatch<T> {
  /** Dead-lettered with their reasons, like records decode refuses; the others count as handled. */
  readonly refused?: readonly RefusedRecord<T>[];
  /**
   * For handlers that make effects durable after they return (a write-behind store): resolves
   * once they are. The batch's offsets are committed only then; with `commitWhenDurable` the
   * next batch starts at once, otherwise the partition waits.
   */
  readonly durable?: Promise<void>;
}

export interface RetryPolicy {
  /** First backoff after a failure; doubles per failure up to `maxMs`. */
  readonly initialMs: number;
  readonly maxMs: number;
  /** Tries of a batch failing with an error of unknown kind before it is split (and of one record before it is dead-lettered). */
  readonly attempts?: number;
}

export interface BatchConsumerOptions<T> {
  readonly topic: TopicSpec;
  /** Consumer group, without the deployment prefix. */
  readonly groupId: string;
  readonly handler: TopicHandler<T>;
  readonly maxBatchSize?: number;
  readonly partitionsConsumedConcurrently?: number;
  readonly retry?: RetryPolicy;
  /**
   * Commit a batch's offsets only once the `durable` promise its handler returned resolves
   * (explicit commits, in order per partition), instead of as soon as the handler returns.
   */
  readonly commitWhenDurable?: boolean;
}

const DEFAULT_RETRY = { initialMs: 200, maxMs: 10_000, attempts: 3 };
/** Below the 3 s heartbeat interval configured below, well within the 30 s session timeout. */
const HEARTBEAT_EVERY_MS = 2_500;
/** How long stop() lets work in flight finish before abandoning it (uncommitted). */
const STOP_GRACE_MS = 5_000;

/**
 * Consumes one topic in batches with at-least-once delivery:
 * - offsets are committed only after the handler's effects (and any dead letters) are durable,
 *   at most one commit request every `commitIntervalMs` carrying every batch done meanwhile
 *   (kafkajs' auto-commit would send one after every batch), and what is done on stop();
 * - a record that can never be processed (undecodable, too large, invalid) goes to the topic's
 *   dead-letter topic with the reason and its origin in headers, and the partition flows on;
 * - failures are retried by kind (failures.ts): unavailability of the broker or the store for
 *   as long as it lasts, with bounded backoff, heartbeating meanwhile; errors of unknown kind a
 *   few times; then the batch is split down to the record that fails, which is dead-lettered,
 *   so one poison record never stalls a partition or takes good neighbours with it;
 * - a partition that makes no progress for longer than `stalledAfterMs` makes health() fail,
 *   naming it and its last error, and shows in shoal_kafka_partition_stalled;
 * - stop() ends any backoff at once and abandons work still in flight after a short grace;
 *   what was not finished is not committed, so it is delivered again;
 * - with `commitWhenDurable`, a handler that makes its effects durable later (write-behind) lets
 *   the partition move on at once, and its offsets are committed when it says they are durable;
 * - a consumer kafkajs gives up on (a non-retriable error, e.g. during a long broker outage) is
 *   recreated and rejoins its group after a bounded, jittered backoff (consumer-restarts.ts);
 *   health() fails meanwhile with the reason.
 */
export class BatchConsumer<T> {
  /** Replaced by a new one when kafkajs gives up on it. */
  private consumer: Consumer;
  private readonly kafka: Kafka;
  private readonly restarts: ConsumerRestarts;
  private readonly maxBatchSize: number;
  private readonly retry: Required<RetryPolicy>;
  /**
   * joining → running; a crash kafkajs restarts from goes back to joining, one it gives up on
   * to crashed until the consumer is recreated (joining again); only stop() ends it.
   */
  private state: 'joining' | 'running' | 'crashed' | 'stopped' = 'joining';
  private lastError = '';
  /** Aborted by stop(): backoffs end and no new work starts. */
  private readonly stopping = new AbortController();
  /** Aborted a grace period after stop(): work still in flight is no longer waited for. */
  private readonly abandoning = new AbortController();
  private readonly progress: PartitionProgress;
  /** Per partition, the last batch whose commit waits for its effects: they chain in offset order. */
  private readonly awaitingDurable = new Map<number, Promise<void>>();
  /** Commits asked for and not yet answered (paced by OffsetCommits). */
  private readonly inFlightCommits = new Set<Promise<void>>();
  private readonly commits: OffsetCommits;
  private readonly consumed;
  private readonly deadLettered;
  private readonly retries;
  private readonly batchSeconds;

  private readonly names: TopicNames;
  private readonly publisher: EventPublisher;
  private readonly options: BatchConsumerOptions<T>;
  private readonly maxMessageBytes: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor({
    kafka,
    names,
    publisher,
    options,
    maxMessageBytes,
    stalledAfterMs,
    commitIntervalMs = 0,
    clock,
    logger,
    metrics,
    restartBackoff,
  }: {
    kafka: Kafka;
    names: TopicNames;
    publisher: EventPublisher;
    options: BatchConsumerOptions<T>;
    /** Records larger than this are dead-lettered unread (TOO_LARGE); dead letters are cut to it. */
    maxMessageBytes: number;
    /** A partition with work in hand and no progress for this long is reported stalled. */
    stalledAfterMs: number;
    /** Offset commits start at least this long apart, each carrying all done meanwhile (0: none). */
    commitIntervalMs?: number;
    clock: Clock;
    logger: Logger;
    metrics: Metrics;
    /** How soon a consumer kafkajs gave up on is recreated (default DEFAULT_RESTART_BACKOFF). */
    restartBackoff?: RestartBackoff;
  }) {
    this.kafka = kafka;
    this.names = names;
    this.publisher = publisher;
    this.options = options;
    this.maxMessageBytes = maxMessageBytes;
    this.clock = clock;
    this.logger = logger;
    if (!options.topic.deadLetter)
      throw new Error(`topic ${options.topic.name} has no dead-letter topic`);
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.restarts = new ConsumerRestarts({
      group: this.groupId,
      restart: () => this.recreate(),
      clock,
      logger,
      metrics,
      ...(restartBackoff ? { backoff: restartBackoff } : {}),
    });
    this.consumer = this.createConsumer();
    // always the current consumer's: a commit due from before a recreation goes through the new one
    this.commits = new OffsetCommits(
      (offsets) => this.consumer.commitOffsets(offsets),
      commitIntervalMs,
    );
    this.consumed = metrics.counter('shoal_kafka_consumed_total', 'records consumed', [
      'topic',
      'group',
    ]);
    this.deadLettered = metrics.counter(
      'shoal_kafka_dead_lettered_total',
      'records dead-lettered',
      ['topic', 'reason'],
    );
    this.retries = metrics.counter(
      'shoal_kafka_batch_retries_total',
      'batch retries after failures',
      ['topic', 'kind'],
    );
    this.batchSeconds = metrics.histogram(
      'shoal_kafka_batch_duration_seconds',
      'batch processing time',
      ['topic'],
    );
    const stalled = metrics.gauge(
      'shoal_kafka_partition_stalled',
      '1 while a partition has made no progress for longer than KAFKA_CONSUMER_STALLED_AFTER_MS',
      ['topic', 'partition'],
    );
    const stalls = metrics.counter(
      'shoal_kafka_partition_stalls_total',
      'times a partition became stalled',
      ['topic'],
    );
    this.progress = new PartitionProgress(clock, stalledAfterMs, (partition, isStalled) => {
      stalled.set({ topic: this.topicName, partition: String(partition) }, isStalled ? 1 : 0);
      if (isStalled) {
        stalls.inc({ topic: this.topicName });
        this.logger.error({ topic: this.topicName, partition }, 'partition stalled');
      } else {
        this.logger.info({ topic: this.topicName, partition }, 'partition no longer stalled');
      }
    });
  }

  get groupId(): string {
    return this.names.group(this.options.groupId);
  }

  get topicName(): string {
    return this.names.of(this.options.topic);
  }

  /** For readiness: throws when the consumer cannot make progress. */
  health(): string {
    const down = this.restarts.down;
    if (down) throw new Error(describeDown(this.groupId, down));
    if (this.state === 'crashed')
      throw new Error(`consumer ${this.groupId} crashed: ${this.lastError}`);
    if (this.state !== 'running') throw new Error(`consumer ${this.groupId} is ${this.state}`);
    const stalled = this.progress.check();
    if (stalled.length > 0) {
      throw new Error(
        stalled
          .map(
            (s) =>
              `${this.topicName} partition ${s.partition} has made no progress for ` +
              `${Math.round(s.stalledForMs / 1000)} s: ${s.lastError ?? 'a batch is still in progress'}`,
          )
          .join('; '),
      );
    }
    return `consuming ${this.topicName}`;
  }

  async start(): Promise<void> {
    await this.run(this.consumer);
  }

  private async run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topic: this.topicName, fromBeginning: true });
    await consumer.run({
      // kafkajs' auto-commit sends a commit after every batch; ours are paced (OffsetCommits)
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  private createConsumer(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 2 * 1024 * 1024,
    });
    const { CRASH, GROUP_JOIN } = consumer.events;
    consumer.on(CRASH, ({ payload }) => {
      // a consumer replaced since says nothing about the current one
      if (consumer !== this.consumer || this.state === 'stopped') return;
      this.lastError = payload.error.message;
      this.logger.error(
        { err: payload.error, restart: payload.restart, group: this.groupId },
        'consumer crashed',
      );
      if (payload.restart) {
        this.state = 'joining';
        return;
      }
      this.state = 'crashed';
      this.restarts.gaveUp(`kafkajs gave up on it: ${payload.error.message}`);
    });
    consumer.on(GROUP_JOIN, () => {
      if (consumer !== this.consumer || this.state === 'stopped') return;
      this.state = 'running';
      this.restarts.joined();
    });
    return consumer;
  }

  /**
   * Replaces a consumer kafkajs gave up on (it has left the group and disconnected) with a new
   * one that joins the group again and resumes from the committed offsets.
   */
  private async recreate(): Promise<void> {
    if (this.stopped) return;
    const previous = this.consumer;
    await previous.disconnect().catch(() => undefined);
    // stop() may have come meanwhile
    if (this.stopped) return;
    this.consumer = this.createConsumer();
    this.state = 'joining';
    this.logger.info({ group: this.groupId }, 'consumer recreated; joining its group');
    await this.run(this.consumer);
  }

  /**
   * Ends backoffs at once, lets work in flight finish for a short grace, commits what is done
   * and leaves the group; bounded even when the broker is unreachable.
   */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.restarts.stop();
    this.stopping.abort();
    const abandon = setTimeout(() => this.abandoning.abort(), STOP_GRACE_MS);
    await this.commitPending();
    let leaving: NodeJS.Timeout | undefined;
    const left = await Promise.race([
      this.consumer.disconnect().then(() => true),
      new Promise<false>((resolve) => {
        leaving = setTimeout(() => resolve(false), 2 * STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(abandon);
    clearTimeout(leaving);
    if (!left)
      this.logger.warn({ group: this.groupId }, 'consumer did not leave its group in time');
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const control: BatchControl = { partition: batch.partition, heartbeat, isRunning, isStale };
    // kafkajs beats only when asked: a handler working longer than the session (a slow store)
    // would lose the group, and every uncommitted record would be delivered again
    const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
    try {
      for (let start = 0; start < batch.messages.length; start += this.maxBatchSize) {
        if (this.halted(control)) return;
        this.progress.begin(batch.partition);
        const chunk = batch.messages.slice(start, start + this.maxBatchSize);
        const stopTimer = this.batchSeconds.startTimer({ topic: batch.topic });
        const deadLetters: DeadLetter[] = [];
        const decoded: Decoded<T>[] = [];
        for (const message of chunk) {
          const outcome = this.decode(batch.topic, batch.partition, message);
          if ('reason' in outcome) deadLetters.push(outcome);
          else decoded.push({ record: outcome, message });
        }
        const durable: Promise<void>[] = [];
        if (!(await this.process(decoded, { deadLetters, durable }, control, true))) return;
        if (!(await this.sendDeadLetters(deadLetters, control))) return;
        const last = chunk[chunk.length - 1];
        if (last) resolveOffset(last.offset);
        if (!this.options.commitWhenDurable) await Promise.all(durable);
        if (last) this.commitWhen(durable, batch.topic, batch.partition, last.offset);
        await heartbeat();
        this.progress.progressed(batch.partition);
        stopTimer();
        this.consumed.inc({ topic: batch.topic, group: this.groupId }, chunk.length);
      }
    } finally {
      clearInterval(beat);
      this.progress.end(batch.partition);
    }
  }

  private decode(
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): ConsumedRecord<T> | DeadLetter {
    const size = recordBytes(message);
    if (size > this.maxMessageBytes) {
      return {
        message,
        partition,
        reason: 'TOO_LARGE',
        error: `record is ${size} bytes; the limit is ${this.maxMessageBytes}`,
      };
    }
    try {
      return {
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        value: this.options.handler.decode(message),
        headers: headersOf(message.headers),
        timestamp: new Date(Number(message.timestamp)),
      };
    } catch (error) {
      // a decoder has no transient failures: whatever it rejects, it will always reject
      const reason = error instanceof DomainError ? error.reason : 'UNDECODABLE';
      return { message, partition, reason, error: describeFailure(error).error };
    }
  }

  /**
   * Runs the handler; isolates failing records into dead letters by splitting. A whole batch
   * and a single record get the full number of attempts for errors of unknown kind, the halves
   * in between one each. Returns false when the consumer stopped or lost the partition.
   */
  private async process(
    items: readonly Decoded<T>[],
    into: { deadLetters: DeadLetter[]; durable: Promise<void>[] },
    control: BatchControl,
    whole: boolean,
  ): Promise<boolean> {
    if (items.length === 0) return true;
    const records = items.map((item) => item.record);
    const attempts = whole || items.length === 1 ? this.retry.attempts : 1;
    let handled: HandledBatch<T> | void = undefined;
    const outcome = await this.withRetry(
      async () => {
        const parent = parseTraceparent(records[0]?.headers[KafkaHeaders.traceparent]);
        handled = await runInTrace(childContext(parent), () =>
          this.options.handler.handleBatch(records),
        );
      },
      control,
      (kind, failures) => kind === 'permanent' || (kind === 'unknown' && failures >= attempts),
    );
    if (outcome === STOPPED) return false;
    if (outcome === DONE) {
      this.collect(items, handled, into);
      return true;
    }
    const [only] = items;
    if (items.length === 1 && only) {
      into.deadLetters.push({
        message: only.message,
        partition: only.record.partition,
        ...describeFailure(outcome.error),
      });
      return true;
    }
    const middle = Math.ceil(items.length / 2);
    return (
      (await this.process(items.slice(0, middle), into, control, false)) &&
      (await this.process(items.slice(middle), into, control, false))
    );
  }

  /** Takes in what a handler said about the records it handled: refusals and durability. */
  private collect(
    items: readonly Decoded<T>[],
    handled: HandledBatch<T> | void,
    into: { deadLetters: DeadLetter[]; durable: Promise<void>[] },
  ): void {
    if (!handled) return;
    if (handled.durable) into.durable.push(handled.durable);
    for (const refusal of handled.refused ?? []) {
      const item = items.find((i) => i.record === refusal.record);
      if (!item) throw new Error('a handler refused a record it was not given');
      into.deadLetters.push({
        message: item.message,
        partition: item.record.partition,
        reason: refusal.reason,
        error: refusal.error,
      });
    }
  }

  /**
   * Commits `offset`'s successor once every promise in `durable` resolved and the partition's
   * earlier batches were asked to commit: in offset order per partition, while the requests
   * themselves are shared and paced (OffsetCommits). A commit that fails (a rebalance moved the
   * partition on) is skipped: its records are delivered again, and handlers are idempotent.
   */
  private commitWhen(
    durable: readonly Promise<void>[],
    topic: string,
    partition: number,
    offset: string,
  ): void {
    const next = String(BigInt(offset) + 1n);
    const notCommitted = (error: unknown) =>
      this.logger.warn(
        { err: error, topic, partition, offset: next },
        'offsets not committed; the records will be delivered again',
      );
    const previous = this.awaitingDurable.get(partition) ?? Promise.resolve();
    const asked = previous
      .then(() => Promise.all(durable))
      .then(() => {
        const commit = this.commits.commit(topic, partition, next).catch(notCommitted);
        this.inFlightCommits.add(commit);
        void commit.finally(() => this.inFlightCommits.delete(commit));
      })
      .catch(notCommitted)
      .finally(() => {
        if (this.awaitingDurable.get(partition) === asked) this.awaitingDurable.delete(partition);
      });
    this.awaitingDurable.set(partition, asked);
  }

  /** Waits, for at most the stop grace, for commits due and about to be: sent without pacing. */
  private async commitPending(): Promise<void> {
    this.commits.flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.awaitingDurable.values()]).then(() =>
        Promise.all([...this.inFlightCommits]),
      ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Publishes dead letters, cut to fit and in sends the broker accepts; retried until done. */
  private async sendDeadLetters(
    deadLetters: readonly DeadLetter[],
    control: BatchControl,
  ): Promise<boolean> {
    if (deadLetters.length === 0) return true;
    const dlq = this.options.topic.deadLetter as TopicSpec;
    const source = { topic: this.topicName, at: this.clock.now() };
    const records = deadLetters.map((d) => deadLetterRecord(d, source, this.maxMessageBytes));
    for (const send of inSendsOf(records, this.maxMessageBytes)) {
      // nothing may be skipped: whatever the failure, retry, and let readiness show the stall
      const outcome = await this.withRetry(
        () => this.publisher.publishRaw(dlq, send),
        control,
        () => false,
      );
      if (outcome !== DONE) return false;
    }
    for (const d of deadLetters) {
      this.deadLettered.inc({ topic: this.topicName, reason: d.reason });
      this.logger.warn(
        {
          topic: this.topicName,
          partition: d.partition,
          offset: d.message.offset,
          reason: d.reason,
          error: d.error,
        },
        'record dead-lettered',
      );
    }
    return true;
  }

  /**
   * Runs `work` until it succeeds, the consumer stops or loses the partition (STOPPED), or
   * `giveUp` says a failure is final (returned).
   */
  private async withRetry(
    work: () => Promise<void>,
    control: BatchControl,
    giveUp: (kind: FailureKind, failures: number) => boolean,
  ): Promise<typeof DONE | typeof STOPPED | { error: unknown }> {
    let delay = this.retry.initialMs;
    let failures = 0;
    for (;;) {
      if (this.halted(control)) return STOPPED;
      const outcome = await untilAborted(
        work().then(
          (): typeof DONE => DONE,
          (error: unknown) => ({ error }),
        ),
        this.abandoning.signal,
      );
      if (outcome === DONE || outcome === STOPPED) return outcome;
      failures++;
      const kind = classifyFailure(outcome.error);
      if (giveUp(kind, failures)) return outcome;
      this.progress.failed(control.partition, describeFailure(outcome.error).error);
      this.retries.inc({ topic: this.topicName, kind });
      this.logger.warn(
        {
          err: outcome.error,
          topic: this.topicName,
          partition: control.partition,
          kind,
          retryInMs: delay,
        },
        'batch failed; retrying',
      );
      if (!(await this.backoff(delay, control))) return STOPPED;
      delay = Math.min(delay * 2, this.retry.maxMs);
    }
  }

  /** Waits `ms`, heartbeating; false when the consumer stopped or the group is rebalancing. */
  private async backoff(ms: number, control: BatchControl): Promise<boolean> {
    for (let left = ms; left > 0; left -= HEARTBEAT_EVERY_MS) {
      await sleep(Math.min(left, HEARTBEAT_EVERY_MS), this.stopping.signal);
      if (this.halted(control)) return false;
      try {
        await control.heartbeat();
      } catch (error) {
        // the group moved on without us: leave the batch uncommitted so kafkajs can rejoin
        if (isRebalancing(error)) return false;
      }
    }
    return !this.halted(control);
  }

  private halted(control: BatchControl): boolean {
    return this.stopping.signal.aborted || !control.isRunning() || control.isStale();
  }
}

interface Decoded<T> {
  readonly record: ConsumedRecord<T>;
  readonly message: KafkaMessage;
}

interface BatchControl {
  readonly partition: number;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

const DONE = Symbol('done');
const STOPPED = Symbol('stopped');

function isRebalancing(error: unknown): boolean {
  const type = (error as { type?: unknown } | undefined)?.type;
  return (
    type === 'REBALANCE_IN_PROGRESS' ||
    type === 'ILLEGAL_GENERATION' ||
    type === 'UNKNOWN_MEMBER_ID'
  );
}

/** Sleeps `ms`, or less when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The promise's value, or STOPPED as soon as the signal aborts. The promise itself runs on
 * (its outcome is ignored); its effects are idempotent and its offsets are not committed.
 */
function untilAborted<R>(promise: Promise<R>, signal: AbortSignal): Promise<R | typeof STOPPED> {
  if (signal.aborted) return Promise.resolve(STOPPED);
  return new Promise((resolve) => {
    const onAbort = () => resolve(STOPPED);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}
