import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { KafkaHeaders, type TopicSpec } from '@shoal/contracts';
import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import { childContext, currentTrace, formatTraceparent } from '../tracing/trace-context';
import { inSizedSendsOf, recordBytes } from './dead-letters';
import { encodeProtobuf, protobufHeaders } from './records';
import { RecordError } from './records.errors';
import type { TopicNames } from './topics';

/** One record to publish. A null value is a tombstone (deletes the key on compacted topics). */
export interface OutgoingRecord<D extends DescMessage> {
  readonly key: string;
  readonly value: MessageShape<D> | null;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The one way Shoal writes to Kafka: an idempotent producer (acks=all, one request in flight
 * per broker, so retries neither duplicate nor reorder), protobuf values, trace context in
 * headers. `publish` resolves once every record is acknowledged by the cluster; any number of
 * records may be given, sent in order in requests the broker accepts.
 */
export class EventPublisher {
  private producer: Producer;
  private readonly published;
  private readonly requests;
  private readonly queue: QueuedSend[] = [];
  private draining = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
    private readonly maxMessageBytes: number,
    private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.producer = this.newProducer();
    this.published = metrics.counter('shoal_kafka_published_total', 'records published', ['topic']);
    this.requests = metrics.counter(
      'shoal_kafka_produce_requests_total',
      'produce requests sent (published records / requests = records per request)',
    );
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client does, so upstream producers and Shoal agree on partitions
      createPartitioner: Partitioners.DefaultPartitioner,
      // an idempotent producer keeps retrying rather than giving up on a record mid-sequence;
      // callers that must answer in time bound the wait themselves
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  async publish<D extends DescMessage>(
    topic: TopicSpec<D>,
    records: readonly OutgoingRecord<D>[],
  ): Promise<void> {
    if (records.length === 0) return;
    if (!topic.payload) throw new Error(`${topic.name} carries raw records; use publishRaw`);
    const schema = topic.payload;
    const traceparent = formatTraceparent(childContext(currentTrace()));
    const messages = records.map((record) => ({
      key: record.key,
      value: record.value === null ? null : encodeProtobuf(schema, record.value),
      headers: { ...protobufHeaders, [KafkaHeaders.traceparent]: traceparent, ...record.headers },
    }));
    for (const message of messages) {
      const size = message.value?.length ?? 0;
      if (size > this.maxMessageBytes) {
        throw RecordError.tooLarge(this.names.of(topic), size, this.maxMessageBytes);
      }
    }
    // the broker limits each partition's batch of a send: sends within the limit always fit
    for (const send of inSizedSendsOf(messages, this.maxMessageBytes))
      await this.send(topic, send.messages, send.bytes);
  }

  /**
   * Publishes records as they are, in one send: the caller keeps the batch within what the
   * topic accepts (dead letters: dead-letters.ts).
   */
  async publishRaw(topic: TopicSpec, messages: readonly Message[]): Promise<void> {
    await this.send(topic, messages);
  }

  /**
   * Queues a send. Sends queued while a request is in flight go out together in the next one
   * (in the order they were queued, within the size one send may have), so partitions
   * publishing at the same time share requests instead of waiting for one each: the producer
   * has one request in flight, which keeps its retries in order.
   */
  private send(
    topic: TopicSpec,
    messages: readonly Message[],
    bytes = messages.reduce((sum, message) => sum + recordBytes(message), 0),
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic: this.names.of(topic), messages, bytes, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.sendTogether(this.takeTogether());
    } finally {
      this.draining = false;
    }
  }

  /** The sends at the head of the queue that fit in one request's size. */
  private takeTogether(): QueuedSend[] {
    let bytes = 0;
    let count = 0;
    for (const queued of this.queue) {
      if (count > 0 && bytes + queued.bytes > this.maxMessageBytes) break;
      bytes += queued.bytes;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async sendTogether(sends: readonly QueuedSend[]): Promise<void> {
    try {
      await this.request(sends);
      for (const queued of sends) queued.resolve();
      return;
    } catch (error) {
      const [only] = sends;
      if (only && sends.length === 1) {
        only.reject(error);
        return;
      }
    }
    // one send's records may have failed the request for all: each is sent again on its own
    // (records of the others the broker took are then there twice: consumers are idempotent)
    for (const queued of sends) {
      try {
        await this.request([queued]);
        queued.resolve();
      } catch (error) {
        queued.reject(error);
      }
    }
  }

  private async request(sends: readonly QueuedSend[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, messages } of sends) {
      const list = byTopic.get(topic);
      if (list) list.push(...messages);
      else byTopic.set(topic, [...messages]);
    }
    const producer = this.producer;
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      this.requests.inc();
    } catch (error) {
      await this.replace(producer);
      throw error;
    }
    for (const [topic, messages] of byTopic) {
      this.published.inc({ topic }, messages.length);
      this.logger.debug({ topic, count: messages.length }, 'published');
    }
  }

  /**
   * After a failed send kafkajs has rewound the sequence numbers of every partition in it, also
   * of those the broker appended to: the next records there would be refused as out of order or
   * dropped as duplicates. A new producer (a new producer id) starts the sequences afresh.
   */
  private async replace(failed: Producer): Promise<void> {
    if (this.producer !== failed) return;
    this.producer = this.newProducer();
    await failed.disconnect().catch(() => undefined);
    await this.producer
      .connect()
      .catch((err: unknown) =>
        this.logger.warn(
          { err },
          'a new producer could not connect; sends fail (and try again) until one does',
        ),
      );
  }
}

interface QueuedSend {
  readonly topic: string;
  readonly messages: readonly Message[];
  readonly bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}
