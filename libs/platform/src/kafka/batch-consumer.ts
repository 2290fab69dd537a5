import { KafkaHeaders, type TopicSpec } from '@shoal/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Logger } from 'pino';
import { DomainError, isTransient } from '../errors/domain-error';
import type { Metrics } from '../metrics/metrics';
import { childContext, parseTraceparent, runInTrace } from '../tracing/trace-context';
import type { EventPublisher } from './event-publisher';
import { type ConsumedRecord, headersOf } from './records';
import type { TopicNames } from './topics';

/**
 * What a feature implements to consume a topic. `decode` turns a raw record into the value
 * the handler wants and throws a permanent DomainError for a record that can never be
 * processed; `handleBatch` applies a batch's effects and resolves only once they are durable.
 * Effects must be idempotent: after a crash, records since the last commit are delivered again.
 */
export interface TopicHandler<T> {
  decode(message: KafkaMessage): T;
  handleBatch(records: readonly ConsumedRecord<T>[]): Promise<void>;
}

export interface BatchConsumerOptions<T> {
  readonly topic: TopicSpec;
  /** Consumer group, without the deployment prefix. */
  readonly groupId: string;
  readonly handler: TopicHandler<T>;
  readonly maxBatchSize?: number;
  readonly partitionsConsumedConcurrently?: number;
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
}

interface DeadLetter {
  readonly message: KafkaMessage;
  readonly partition: number;
  readonly reason: string;
  readonly error: string;
}

/**
 * Consumes one topic in batches with at-least-once delivery:
 * - offsets are committed only after the handler's effects (and any dead letters) are durable;
 * - a record that can never be processed (undecodable, too large, invalid) goes to the topic's
 *   dead-letter topic with the reason and its origin in headers, and the partition flows on;
 * - transient failures (store or broker down) are retried with exponential backoff, forever,
 *   heartbeating meanwhile: a stalled partition is visible, lost data is not;
 * - when a batch fails permanently, it is split to find the bad records, so one poison record
 *   never takes good neighbours with it.
 */
export class BatchConsumer<T> {
  private readonly consumer: Consumer;
  private readonly maxBatchSize: number;
  private readonly retry: { initialMs: number; maxMs: number };
  /** joining → running; a crash kafkajs restarts from goes back to joining; only stop() ends it. */
  private state: 'joining' | 'running' | 'crashed' | 'stopped' = 'joining';
  private lastError = '';
  private readonly consumed;
  private readonly deadLettered;
  private readonly retries;
  private readonly batchSeconds;

  private readonly names: TopicNames;
  private readonly publisher: EventPublisher;
  private readonly options: BatchConsumerOptions<T>;
  private readonly maxMessageBytes: number;
  private readonly logger: Logger;
  private readonly onGaveUp: (reason: string) => void;

  constructor({
    kafka,
    names,
    publisher,
    options,
    maxMessageBytes,
    logger,
    metrics,
    onGaveUp = () => undefined,
  }: {
    kafka: Kafka;
    names: TopicNames;
    publisher: EventPublisher;
    options: BatchConsumerOptions<T>;
    /** Records larger than this are dead-lettered unread (TOO_LARGE). */
    maxMessageBytes: number;
    logger: Logger;
    metrics: Metrics;
    /** Told when kafkajs stops restarting the consumer: only a process restart helps then. */
    onGaveUp?: (reason: string) => void;
  }) {
    this.names = names;
    this.publisher = publisher;
    this.options = options;
    this.maxMessageBytes = maxMessageBytes;
    this.logger = logger;
    this.onGaveUp = onGaveUp;
    if (!options.topic.deadLetter)
      throw new Error(`topic ${options.topic.name} has no dead-letter topic`);
    this.maxBatchSize = options.maxBatchSize ?? 500;
    this.retry = options.retry ?? { initialMs: 200, maxMs: 30_000 };
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 2 * 1024 * 1024,
    });
    const { CRASH, GROUP_JOIN } = this.consumer.events;
    this.consumer.on(CRASH, ({ payload }) => {
      this.lastError = payload.error.message;
      if (this.state !== 'stopped') this.state = payload.restart ? 'joining' : 'crashed';
      if (this.state === 'crashed')
        this.onGaveUp(`consumer ${this.groupId} crashed: ${payload.error.message}`);
      this.logger.error(
        { err: payload.error, restart: payload.restart, group: this.groupId },
        'consumer crashed',
      );
    });
    this.consumer.on(GROUP_JOIN, () => {
      if (this.state !== 'stopped') this.state = 'running';
    });
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
      'batch retries after transient errors',
      ['topic'],
    );
    this.batchSeconds = metrics.histogram(
      'shoal_kafka_batch_duration_seconds',
      'batch processing time',
      ['topic'],
    );
  }

  get groupId(): string {
    return this.names.group(this.options.groupId);
  }

  get topicName(): string {
    return this.names.of(this.options.topic);
  }

  /** For readiness: throws when the consumer cannot make progress. */
  health(): string {
    if (this.state === 'crashed')
      throw new Error(`consumer ${this.groupId} crashed: ${this.lastError}`);
    if (this.state !== 'running') throw new Error(`consumer ${this.groupId} is ${this.state}`);
    return `consuming ${this.topicName}`;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topicName, fromBeginning: true });
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Finishes the batch in hand, commits, and leaves the group. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    await this.consumer.disconnect();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } =
      payload;
    for (let start = 0; start < batch.messages.length; start += this.maxBatchSize) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + this.maxBatchSize);
      const stopTimer = this.batchSeconds.startTimer({ topic: batch.topic });
      const deadLetters: DeadLetter[] = [];
      const decoded: Decoded<T>[] = [];
      for (const message of chunk) {
        const outcome = this.decode(batch.topic, batch.partition, message);
        if ('reason' in outcome) deadLetters.push(outcome);
        else decoded.push({ record: outcome, message });
      }
      const completed = await this.process(decoded, deadLetters, { heartbeat, isRunning, isStale });
      if (!completed) return;
      await this.withRetry(() => this.sendDeadLetters(deadLetters), {
        heartbeat,
        isRunning,
        isStale,
      });
      const last = chunk[chunk.length - 1];
      if (last) resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
      stopTimer();
      this.consumed.inc({ topic: batch.topic, group: this.groupId }, chunk.length);
    }
  }

  private decode(
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): ConsumedRecord<T> | DeadLetter {
    const size = message.value?.length ?? 0;
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
      return { message, partition, reason, error: (error as Error).message };
    }
  }

  /**
   * Runs the handler; isolates permanently failing records into dead letters by splitting.
   * Returns false when the consumer stopped or lost the partition before finishing.
   */
  private async process(
    items: readonly Decoded<T>[],
    deadLetters: DeadLetter[],
    control: BatchControl,
  ): Promise<boolean> {
    if (items.length === 0) return true;
    const records = items.map((item) => item.record);
    const outcome = await this.withRetry(async () => {
      try {
        const parent = parseTraceparent(records[0]?.headers[KafkaHeaders.traceparent]);
        await runInTrace(childContext(parent), () => this.options.handler.handleBatch(records));
        return undefined;
      } catch (error) {
        if (isTransient(error)) throw error;
        return error as DomainError;
      }
    }, control);
    if (outcome === STOPPED) return false;
    if (outcome === undefined) return true;
    const [only] = items;
    if (items.length === 1 && only) {
      deadLetters.push({
        message: only.message,
        partition: only.record.partition,
        reason: outcome.reason,
        error: outcome.message,
      });
      return true;
    }
    const middle = Math.ceil(items.length / 2);
    return (
      (await this.process(items.slice(0, middle), deadLetters, control)) &&
      (await this.process(items.slice(middle), deadLetters, control))
    );
  }

  private async withRetry<R>(
    work: () => Promise<R>,
    control: BatchControl,
  ): Promise<R | typeof STOPPED> {
    let delay = this.retry.initialMs;
    for (;;) {
      try {
        return await work();
      } catch (error) {
        if (!control.isRunning() || control.isStale()) return STOPPED;
        this.retries.inc({ topic: this.topicName });
        this.logger.warn(
          { err: error, topic: this.topicName, retryInMs: delay },
          'transient failure; retrying batch',
        );
        await sleep(delay);
        await control.heartbeat().catch(() => undefined);
        delay = Math.min(delay * 2, this.retry.maxMs);
      }
    }
  }

  private async sendDeadLetters(deadLetters: readonly DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return;
    const dlq = this.options.topic.deadLetter as TopicSpec;
    const now = new Date().toISOString();
    const messages: Message[] = deadLetters.map((d) => ({
      key: d.message.key,
      value: d.message.value,
      headers: {
        ...headersOf(d.message.headers),
        [KafkaHeaders.deadLetterReason]: d.reason,
        [KafkaHeaders.deadLetterError]: d.error.slice(0, 2_000),
        [KafkaHeaders.deadLetterTopic]: this.topicName,
        [KafkaHeaders.deadLetterPartition]: String(d.partition),
        [KafkaHeaders.deadLetterOffset]: d.message.offset,
        [KafkaHeaders.deadLetterAt]: now,
      },
    }));
    await this.publisher.publishRaw(dlq, messages);
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
  }
}

interface Decoded<T> {
  readonly record: ConsumedRecord<T>;
  readonly message: KafkaMessage;
}

interface BatchControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

const STOPPED = Symbol('stopped');

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
