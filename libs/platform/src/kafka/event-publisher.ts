import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { KafkaHeaders, type TopicSpec } from '@shoal/contracts';
import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import { childContext, currentTrace, formatTraceparent } from '../tracing/trace-context';
import { inSendsOf } from './dead-letters';
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

  constructor(
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
    private readonly maxMessageBytes: number,
    private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.producer = this.newProducer();
    this.published = metrics.counter('shoal_kafka_published_total', 'records published', ['topic']);
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
    for (const send of inSendsOf(messages, this.maxMessageBytes)) await this.send(topic, send);
  }

  /**
   * Publishes records as they are, in one send: the caller keeps the batch within what the
   * topic accepts (dead letters: dead-letters.ts).
   */
  async publishRaw(topic: TopicSpec, messages: readonly Message[]): Promise<void> {
    await this.send(topic, messages);
  }

  private async send(topic: TopicSpec, messages: readonly Message[]): Promise<void> {
    const name = this.names.of(topic);
    const producer = this.producer;
    try {
      await producer.send({ topic: name, acks: -1, messages: [...messages] });
    } catch (error) {
      await this.replace(producer);
      throw error;
    }
    this.published.inc({ topic: name }, messages.length);
    this.logger.debug({ topic: name, count: messages.length }, 'published');
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
