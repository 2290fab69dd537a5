// The platform's real-infrastructure tests live beside the harness they need (the platform
// itself cannot depend on @shoal/testing without a cycle).
import { create } from '@bufbuild/protobuf';
import {
  type TopicSpec,
  UpstreamEventSchema,
  type UpstreamEvent,
  KafkaHeaders,
} from '@shoal/contracts';
import {
  BatchConsumer,
  type ConsumedRecord,
  DomainError,
  ErrorKind,
  EventPublisher,
  Metrics,
  SecretMask,
  TopicNames,
  ValidationError,
  createLogger,
  decodeProtobuf,
  ensureTopics,
} from '@shoal/platform';
import { TestScope, eventually } from '../src';
import type { KafkaMessage } from 'kafkajs';

const deadLetterTopic: TopicSpec<null> = {
  name: 'platform.test.events.dlq',
  description: 'test dead letters',
  payload: null,
  key: 'original key',
  encodings: ['raw'],
  partitions: 1,
  retentionMs: 3_600_000,
  cleanupPolicy: 'delete',
};
const eventsTopic: TopicSpec<typeof UpstreamEventSchema> = {
  name: 'platform.test.events',
  description: 'test events',
  payload: UpstreamEventSchema,
  key: 'user id',
  encodings: ['protobuf'],
  partitions: 1,
  retentionMs: 3_600_000,
  cleanupPolicy: 'delete',
  deadLetter: deadLetterTopic,
};

const logger = createLogger({
  service: 'consumer-test',
  version: '0',
  level: 'silent',
  secrets: new SecretMask(),
});

describe('batch consumer', () => {
  const scope = new TestScope();
  const names = new TopicNames(scope.topicPrefix);
  const metrics = new Metrics('consumer-test');
  const processed: string[] = [];
  let flakyFailures = 0;
  let publisher: EventPublisher;
  const consumers: BatchConsumer<UpstreamEvent>[] = [];

  const handler = {
    decode: (message: KafkaMessage) => decodeProtobuf(UpstreamEventSchema, message),
    async handleBatch(records: readonly ConsumedRecord<UpstreamEvent>[]) {
      if (records.some((r) => r.value.messageId === 'poison')) {
        throw new ValidationError([{ field: 'messageId', description: 'poison is not allowed' }]);
      }
      if (records.some((r) => r.value.messageId === 'flaky') && flakyFailures < 2) {
        flakyFailures++;
        throw new DomainError(ErrorKind.Unavailable, 'STORE_DOWN', 'store unavailable');
      }
      processed.push(...records.map((r) => r.value.messageId));
    },
  };

  const startConsumer = async () => {
    const consumer = new BatchConsumer({
      kafka: scope.kafka(),
      names,
      publisher,
      options: {
        topic: eventsTopic,
        groupId: 'test-group',
        handler,
        retry: { initialMs: 50, maxMs: 200 },
      },
      maxMessageBytes: 1024 * 1024,
      logger,
      metrics,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  };

  const send = (ids: string[]) =>
    publisher.publish(
      eventsTopic,
      ids.map((id) => ({
        key: 'same-key',
        value: create(UpstreamEventSchema, { messageId: id, userId: 'u' }),
      })),
    );

  beforeAll(async () => {
    const admin = scope.kafka().admin();
    await admin.connect();
    await ensureTopics(admin, [eventsTopic], names, {
      replicationFactor: 1,
      maxMessageBytes: 1024 * 1024,
    });
    await admin.disconnect();
    publisher = new EventPublisher(scope.kafka(), names, 1024 * 1024, logger, metrics);
    await publisher.connect();
  });
  afterAll(async () => {
    for (const consumer of consumers) await consumer.stop();
    await publisher.disconnect();
    await scope.close();
  });

  it('dead-letters only the poison record, retries a transient failure, and keeps order', async () => {
    const consumer = await startConsumer();
    await send(['a', 'poison', 'b', 'flaky', 'c']);
    await scope.produce(eventsTopic, [{ key: 'same-key', value: Buffer.from([0xff, 0xfe, 0xfd]) }]);
    await send(['d']);

    await eventually(() =>
      expect(processed).toEqual(expect.arrayContaining(['a', 'b', 'flaky', 'c', 'd'])),
    );
    expect(processed).not.toContain('poison');
    expect(flakyFailures).toBe(2);
    // order within the partition survives splitting and retries
    const firstSeen = ['a', 'b', 'flaky', 'c', 'd'].map((id) => processed.indexOf(id));
    expect([...firstSeen].sort((x, y) => x - y)).toEqual(firstSeen);

    const deadLetters = await scope.readTopic(deadLetterTopic, 2);
    const reasons = deadLetters.map((m) => String(m.headers?.[KafkaHeaders.deadLetterReason]));
    expect(reasons).toEqual(['INVALID_ARGUMENT', 'UNDECODABLE']);
    expect(String(deadLetters[0]?.headers?.[KafkaHeaders.deadLetterError])).toContain(
      'poison is not allowed',
    );
    expect(deadLetters[1]?.value).toEqual(Buffer.from([0xff, 0xfe, 0xfd]));
    expect(consumer.health()).toContain('consuming');
  });

  it('commits after processing, so a restarted consumer does not see the same records again', async () => {
    await consumers.pop()?.stop();
    const before = processed.length;
    await startConsumer();
    await send(['e']);
    await eventually(() => expect(processed).toContain('e'));
    expect(processed.slice(before)).toEqual(['e']);
  });
});
