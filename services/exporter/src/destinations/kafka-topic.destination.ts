import {
  CloudEventHeaders,
  CloudEventTypes,
  ContentTypes,
  KafkaHeaders,
  type KafkaTopicDestination,
} from '@shoal/contracts';
import type { FieldViolation } from '@shoal/platform';
import { Kafka, type Producer, type SASLOptions, logLevel } from 'kafkajs';
import { type DeliveryBatch, DeliveryFailure, type DestinationKind } from './destination-kind';

const DEFAULTS = { batchSize: 500, maxAttempts: 8 };
const LIMITS = { batchSize: 10_000, maxAttempts: 20 };
const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
/** How long a produce request may take before the attempt counts as failed. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Kafka topic destinations: each record is produced to the destination's topic keyed by profile
 * id (so a profile's records stay in order), its JSON as the value, with CloudEvents headers.
 * A producer per destination configuration is kept open between batches and closed at shutdown.
 */
export class KafkaTopicDestinationKind implements DestinationKind<'kafkaTopic'> {
  readonly kind = 'kafkaTopic' as const;
  readonly incremental = true;
  private readonly producers = new Map<string, Promise<Producer>>();

  validate(config: KafkaTopicDestination, stored: KafkaTopicDestination | undefined) {
    const at = (field: string) => `config.kafkaTopic.${field}`;
    const violations: FieldViolation[] = [];
    if (config.brokers.length === 0 || config.brokers.some((b) => !HOST_PORT.test(b)))
      violations.push({ field: at('brokers'), description: 'at least one, each host:port' });
    if (!TOPIC.test(config.topic))
      violations.push({
        field: at('topic'),
        description: '1–249 letters, digits, ".", "_" or "-"',
      });
    if (config.saslMechanism) {
      if (!(MECHANISMS as readonly string[]).includes(config.saslMechanism))
        violations.push({
          field: at('saslMechanism'),
          description: `one of ${MECHANISMS.join(', ')}`,
        });
      if (!config.saslUsername)
        violations.push({ field: at('saslUsername'), description: 'is required with SASL' });
      if (!config.saslPassword && !stored?.saslPassword)
        violations.push({ field: at('saslPassword'), description: 'is required with SASL' });
    }
    for (const key of ['batchSize', 'maxAttempts'] as const) {
      if (config[key] < 0 || config[key] > LIMITS[key])
        violations.push({ field: at(key), description: `between 0 and ${LIMITS[key]}` });
    }
    return violations;
  }

  normalised(config: KafkaTopicDestination, stored: KafkaTopicDestination | undefined) {
    const saslPassword = config.saslMechanism
      ? config.saslPassword || (stored?.saslPassword ?? '')
      : '';
    return {
      ...config,
      saslUsername: config.saslMechanism ? config.saslUsername : '',
      saslPassword,
      saslPasswordSet: saslPassword !== '',
      batchSize: config.batchSize || DEFAULTS.batchSize,
      maxAttempts: config.maxAttempts || DEFAULTS.maxAttempts,
    };
  }

  redacted(config: KafkaTopicDestination) {
    return { ...config, saslPassword: '', saslPasswordSet: config.saslPassword !== '' };
  }

  secrets(config: KafkaTopicDestination): string[] {
    return config.saslPassword ? [config.saslPassword] : [];
  }

  batchSize(config: KafkaTopicDestination): number {
    return config.batchSize || DEFAULTS.batchSize;
  }

  maxAttempts(config: KafkaTopicDestination): number {
    return config.maxAttempts || DEFAULTS.maxAttempts;
  }

  async deliver(config: KafkaTopicDestination, batch: DeliveryBatch, signal: AbortSignal) {
    signal.throwIfAborted();
    try {
      const producer = await this.producerFor(batch.destinationId, config);
      await producer.send({
        topic: config.topic,
        acks: -1,
        timeout: REQUEST_TIMEOUT_MS,
        messages: batch.records.map((record) => ({
          key: record.profileId,
          value: JSON.stringify(record),
          headers: {
            [CloudEventHeaders.specversion]: '1.0',
            [CloudEventHeaders.type]:
              record.type === 'member' ? 'shoal.segment.member' : CloudEventTypes[record.type],
            [CloudEventHeaders.id]: record.eventId,
            [CloudEventHeaders.source]: `/shoal/segments/${record.segmentId}`,
            [CloudEventHeaders.subject]: record.profileId,
            [CloudEventHeaders.time]: record.occurredAt,
            [KafkaHeaders.contentType]: ContentTypes.json,
          },
        })),
      });
    } catch (error) {
      // a producer that failed may be broken: the next attempt connects afresh
      await this.forget(batch.destinationId);
      throw new DeliveryFailure(
        `producing to ${config.topic} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((key) => this.forget(key)));
  }

  /** One producer per destination, replaced when its configuration changes. */
  private producerFor(destinationId: string, config: KafkaTopicDestination): Promise<Producer> {
    const key = `${destinationId}\u0000${JSON.stringify([config.brokers, config.tls, config.saslMechanism, config.saslUsername, config.saslPassword])}`;
    for (const existing of this.producers.keys())
      if (existing.startsWith(`${destinationId}\u0000`) && existing !== key)
        void this.forget(existing);
    let producer = this.producers.get(key);
    if (!producer) {
      producer = this.connect(config);
      this.producers.set(key, producer);
    }
    return producer;
  }

  private async connect(config: KafkaTopicDestination): Promise<Producer> {
    const kafka = new Kafka({
      clientId: 'shoal-exporter',
      brokers: config.brokers,
      ssl: config.tls,
      ...(config.saslMechanism
        ? {
            sasl: {
              mechanism: config.saslMechanism,
              username: config.saslUsername,
              password: config.saslPassword,
            } as SASLOptions,
          }
        : {}),
      connectionTimeout: REQUEST_TIMEOUT_MS,
      // the idempotent producer needs retries of its own; the exporter's budget wraps them
      retry: { retries: 2 },
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
    await producer.connect();
    return producer;
  }

  private async forget(keyOrDestination: string): Promise<void> {
    for (const [key, producer] of [...this.producers]) {
      if (key !== keyOrDestination && !key.startsWith(`${keyOrDestination}\u0000`)) continue;
      this.producers.delete(key);
      await producer.then((p) => p.disconnect()).catch(() => undefined);
    }
  }
}
