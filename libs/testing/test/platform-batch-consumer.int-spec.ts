// The platform's real-infrastructure tests live beside the harness they need (the platform
// itself cannot depend on @shoal/testing without a cycle).
import { createHash } from 'node:crypto';
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
  type HandledBatch,
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
  systemClock,
} from '@shoal/platform';
import { TestScope, eventually } from '../src';
import { CompressionTypes, type KafkaMessage } from 'kafkajs';

const logger = createLogger({
  service: 'consumer-test',
  version: '0',
  level: 'silent',
  secrets: new SecretMask(),
});

/** A topic and its dead-letter topic of their own, so each test sees only its records. */
function topicPair(name: string): {
  events: TopicSpec<typeof UpstreamEventSchema>;
  deadLetters: TopicSpec<null>;
} {
  const deadLetters: TopicSpec<null> = {
    name: `platform.test.${name}.dlq`,
    description: 'test dead letters',
    payload: null,
    key: 'original key',
    encodings: ['raw'],
    partitions: 1,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete',
  };
  const events: TopicSpec<typeof UpstreamEventSchema> = {
    name: `platform.test.${name}`,
    description: 'test events',
    payload: UpstreamEventSchema,
    key: 'user id',
    encodings: ['protobuf'],
    partitions: 1,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete',
    deadLetter: deadLetters,
  };
  return { events, deadLetters };
}

const headerText = (message: KafkaMessage | undefined, name: string) =>
  String(message?.headers?.[name]);

describe('batch consumer', () => {
  const scope = new TestScope();
  const names = new TopicNames(scope.topicPrefix);
  const metrics = new Metrics('consumer-test');
  const maxMessageBytes = 16 * 1024;
  let publisher: EventPublisher;
  const consumers: BatchConsumer<UpstreamEvent>[] = [];

  const startConsumer = async (
    topic: TopicSpec<typeof UpstreamEventSchema>,
    handleBatch: (
      records: readonly ConsumedRecord<UpstreamEvent>[],
    ) => Promise<HandledBatch<UpstreamEvent> | void>,
    options: {
      retry?: { initialMs: number; maxMs: number };
      stalledAfterMs?: number;
      commitWhenDurable?: boolean;
      commitIntervalMs?: number;
    } = {},
  ) => {
    const consumer = new BatchConsumer({
      kafka: scope.kafka(),
      names,
      publisher,
      options: {
        topic,
        groupId: `group-${topic.name}`,
        handler: {
          decode: (message: KafkaMessage) => decodeProtobuf(UpstreamEventSchema, message),
          handleBatch,
        },
        retry: options.retry ?? { initialMs: 50, maxMs: 200 },
        commitWhenDurable: options.commitWhenDurable ?? false,
      },
      maxMessageBytes,
      stalledAfterMs: options.stalledAfterMs ?? 60_000,
      commitIntervalMs: options.commitIntervalMs ?? 0,
      clock: systemClock,
      logger,
      metrics,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  };

  const send = (topic: TopicSpec<typeof UpstreamEventSchema>, ids: string[]) =>
    publisher.publish(
      topic,
      ids.map((id) => ({
        key: 'same-key',
        value: create(UpstreamEventSchema, { messageId: id, userId: 'u' }),
      })),
    );

  const committed = async (topic: TopicSpec) => {
    const admin = scope.kafka().admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({
        groupId: names.group(`group-${topic.name}`),
        topics: [names.of(topic)],
      });
      return offsets?.partitions[0]?.offset;
    } finally {
      await admin.disconnect();
    }
  };

  const createTopics = async (...topics: TopicSpec[]) => {
    const admin = scope.kafka().admin();
    await admin.connect();
    await ensureTopics(admin, topics, names, { replicationFactor: 1, maxMessageBytes });
    await admin.disconnect();
  };

  beforeAll(async () => {
    publisher = new EventPublisher(scope.kafka(), names, maxMessageBytes, logger, metrics);
    await publisher.connect();
  });
  afterAll(async () => {
    for (const consumer of consumers) await consumer.stop();
    await publisher.disconnect();
    await scope.close();
  });

  describe('with a poison record and a flaky store', () => {
    const { events, deadLetters } = topicPair('events');
    const processed: string[] = [];
    let flakyFailures = 0;
    const handleBatch = async (records: readonly ConsumedRecord<UpstreamEvent>[]) => {
      if (records.some((r) => r.value.messageId === 'poison')) {
        throw new ValidationError([{ field: 'messageId', description: 'poison is not allowed' }]);
      }
      if (records.some((r) => r.value.messageId === 'flaky') && flakyFailures < 2) {
        flakyFailures++;
        throw new DomainError(ErrorKind.Unavailable, 'STORE_DOWN', 'store unavailable');
      }
      processed.push(...records.map((r) => r.value.messageId));
    };
    beforeAll(() => createTopics(events));

    it('dead-letters only the poison record, retries a transient failure, and keeps order', async () => {
      const consumer = await startConsumer(events, handleBatch);
      await send(events, ['a', 'poison', 'b', 'flaky', 'c']);
      await scope.produce(events, [{ key: 'same-key', value: Buffer.from([0xff, 0xfe, 0xfd]) }]);
      await send(events, ['d']);

      await eventually(() =>
        expect(processed).toEqual(expect.arrayContaining(['a', 'b', 'flaky', 'c', 'd'])),
      );
      expect(processed).not.toContain('poison');
      expect(flakyFailures).toBe(2);
      // order within the partition survives splitting and retries
      const firstSeen = ['a', 'b', 'flaky', 'c', 'd'].map((id) => processed.indexOf(id));
      expect([...firstSeen].sort((x, y) => x - y)).toEqual(firstSeen);

      // an undecodable record is set aside when its batch is decoded, a refused one only once the
      // batch has been split down to it: fetched in one batch, the undecodable one is dead-lettered
      // first, in two the refused one — either order is right
      const dead = await scope.readTopic(deadLetters, 2);
      const byReason = new Map(
        dead.map((m) => [headerText(m, KafkaHeaders.deadLetterReason), m] as const),
      );
      expect([...byReason.keys()].sort()).toEqual(['INVALID_ARGUMENT', 'UNDECODABLE']);
      expect(headerText(byReason.get('INVALID_ARGUMENT'), KafkaHeaders.deadLetterError)).toContain(
        'poison is not allowed',
      );
      expect(byReason.get('UNDECODABLE')?.value).toEqual(Buffer.from([0xff, 0xfe, 0xfd]));
      expect(consumer.health()).toContain('consuming');
    });

    it('commits after processing, so a restarted consumer does not see the same records again', async () => {
      await consumers.pop()?.stop();
      const before = processed.length;
      await startConsumer(events, handleBatch);
      await send(events, ['e']);
      await eventually(() => expect(processed).toContain('e'));
      expect(processed.slice(before)).toEqual(['e']);
    });
  });

  it('dead-letters a record whose handler fails with an unexpected error, and processes its neighbours', async () => {
    const { events, deadLetters } = topicPair('unexpected');
    await createTopics(events);
    const processed: string[] = [];
    let attemptsWithBadRecord = 0;
    const consumer = await startConsumer(events, async (records) => {
      if (records.some((r) => r.value.messageId === 'bad')) {
        attemptsWithBadRecord++;
        throw new Error('key a\u0000b must not contain null bytes');
      }
      processed.push(...records.map((r) => r.value.messageId));
    });
    await send(events, ['g1', 'g2', 'bad', 'g3', 'g4']);

    const [dead] = await scope.readTopic(deadLetters, 1);
    expect(headerText(dead, KafkaHeaders.deadLetterReason)).toBe('PROCESSING_FAILED');
    expect(headerText(dead, KafkaHeaders.deadLetterError)).toContain('must not contain null bytes');
    expect(decodeProtobuf(UpstreamEventSchema, dead as KafkaMessage).messageId).toBe('bad');
    await eventually(() => expect(processed).toEqual(['g1', 'g2', 'g3', 'g4']));
    // retried a bounded number of times, not for ever
    expect(attemptsWithBadRecord).toBeGreaterThan(1);
    await send(events, ['after']);
    await eventually(() => expect(processed).toContain('after'));
    expect(attemptsWithBadRecord).toBeLessThan(20);
    expect(consumer.health()).toContain('consuming');
  });

  it('dead-letters a compressed record that is too large once decompressed, within the broker limit, and moves on', async () => {
    const { events, deadLetters } = topicPair('compressed');
    await createTopics(events);
    const processed: string[] = [];
    await startConsumer(events, async (records) => {
      processed.push(...records.map((r) => r.value.messageId));
    });
    // 2 MiB of text gzips to a few KiB, so the broker takes it on a topic limited to 80 KiB
    const huge = Buffer.from('{"type":"identify","traits":{"bio":"' + 'x'.repeat(2 << 20) + '"}}');
    const producer = scope.kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: scope.topicName(events),
      compression: CompressionTypes.GZIP,
      messages: [{ key: 'same-key', value: huge, headers: { origin: 'upstream' } }],
    });
    await producer.disconnect();
    await send(events, ['after-huge']);

    const [dead] = await scope.readTopic(deadLetters, 1);
    expect(headerText(dead, KafkaHeaders.deadLetterReason)).toBe('TOO_LARGE');
    expect(headerText(dead, KafkaHeaders.deadLetterOriginalBytes)).toBe(String(huge.length));
    expect(headerText(dead, KafkaHeaders.deadLetterOriginalSha256)).toBe(
      createHash('sha256').update(huge).digest('hex'),
    );
    expect(headerText(dead, KafkaHeaders.deadLetterTruncated)).toBe('value');
    expect(headerText(dead, 'origin')).toBe('upstream');
    expect(dead?.value?.length).toBeLessThan(maxMessageBytes);
    expect(huge.subarray(0, dead?.value?.length).equals(dead?.value as Buffer)).toBe(true);
    await eventually(() => expect(processed).toEqual(['after-huge']));
  });

  it('reports a partition stalled by failures that do not clear, with the last error, and recovers', async () => {
    const { events } = topicPair('stalled');
    await createTopics(events);
    let storeDown = true;
    const processed: string[] = [];
    const consumer = await startConsumer(
      events,
      async (records) => {
        if (storeDown)
          throw new DomainError(ErrorKind.Unavailable, 'STORE_DOWN', 'store unavailable');
        processed.push(...records.map((r) => r.value.messageId));
      },
      { stalledAfterMs: 300 },
    );
    const stalledGauge = async () =>
      (await metrics.registry.getSingleMetricAsString('shoal_kafka_partition_stalled'))
        .split('\n')
        .find((line) => line.includes(`topic="${consumer.topicName}"`));
    await send(events, ['waiting']);

    await eventually(() =>
      expect(() => consumer.health()).toThrow(
        `${consumer.topicName} partition 0 has made no progress`,
      ),
    );
    expect(() => consumer.health()).toThrow('store unavailable');
    expect(await stalledGauge()).toMatch(/ 1$/);
    expect(
      await metrics.registry.getSingleMetricAsString('shoal_kafka_partition_stalls_total'),
    ).toContain(`topic="${consumer.topicName}"`);

    storeDown = false;
    await eventually(() => expect(processed).toEqual(['waiting']));
    await eventually(() => expect(consumer.health()).toContain('consuming'));
    expect(await stalledGauge()).toMatch(/ 0$/);
  });

  it('stops while backing off, without committing the unfinished batch', async () => {
    const { events } = topicPair('stopping');
    await createTopics(events);
    let attempts = 0;
    const consumer = await startConsumer(
      events,
      async () => {
        attempts++;
        throw new DomainError(ErrorKind.Unavailable, 'STORE_DOWN', 'store unavailable');
      },
      // without an interruptible backoff, stop() would wait an hour
      { retry: { initialMs: 3_600_000, maxMs: 3_600_000 } },
    );
    await send(events, ['unfinished']);
    await eventually(() => expect(attempts).toBe(1));

    await consumer.stop();
    consumers.splice(consumers.indexOf(consumer), 1);
    expect(attempts).toBe(1);

    const processed: string[] = [];
    await startConsumer(events, async (records) => {
      processed.push(...records.map((r) => r.value.messageId));
    });
    await eventually(() => expect(processed).toEqual(['unfinished']));
  });

  it('paces its commits: the batches done within the interval are committed together, and all that is done on stop', async () => {
    const { events } = topicPair('paced');
    await createTopics(events);
    const handled: string[] = [];
    const handle = async (records: readonly ConsumedRecord<UpstreamEvent>[]) => {
      handled.push(...records.map((r) => r.value.messageId));
    };
    const consumer = await startConsumer(events, handle, { commitIntervalMs: 60_000 });
    await send(events, ['p1']);
    // the first commit goes at once
    await eventually(async () => expect(await committed(events)).toBe('1'));
    await send(events, ['p2']);
    await send(events, ['p3']);
    await eventually(() => expect(handled).toEqual(['p1', 'p2', 'p3']));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // within the interval the next commit waits, carrying both batches
    expect(await committed(events)).toBe('1');
    await consumer.stop();
    consumers.splice(consumers.indexOf(consumer), 1);
    expect(await committed(events)).toBe('3');
    // so a consumer of the group starting again sees none of them again
    await startConsumer(events, handle, { commitIntervalMs: 60_000 });
    await send(events, ['p4']);
    await eventually(() => expect(handled).toEqual(['p1', 'p2', 'p3', 'p4']));
  });

  describe('with a handler that makes its effects durable later', () => {
    it('moves on at once and commits each batch only once its effects are durable', async () => {
      const { events } = topicPair('durable');
      await createTopics(events);
      const handled: string[] = [];
      const checkpoints: (() => void)[] = [];
      await startConsumer(
        events,
        async (records) => {
          handled.push(...records.map((r) => r.value.messageId));
          return { durable: new Promise<void>((resolve) => checkpoints.push(resolve)) };
        },
        { commitWhenDurable: true },
      );
      await send(events, ['first']);
      await eventually(() => expect(handled).toEqual(['first']));
      await send(events, ['second', 'third']);
      // the partition went on although nothing is durable yet
      await eventually(() => expect(handled).toEqual(['first', 'second', 'third']));
      expect(await committed(events)).toBe('-1');

      checkpoints[0]?.();
      await eventually(async () => expect(await committed(events)).toBe('1'));
      for (const checkpoint of checkpoints) checkpoint();
      await eventually(async () => expect(await committed(events)).toBe('3'));
    });

    it('dead-letters the records a handler refuses, with their reasons, and handles the rest', async () => {
      const { events, deadLetters } = topicPair('refusing');
      await createTopics(events);
      const handled: string[] = [];
      await startConsumer(
        events,
        async (records) => {
          const refused = records.filter((r) => r.value.messageId.startsWith('too-many'));
          handled.push(
            ...records.filter((r) => !refused.includes(r)).map((r) => r.value.messageId),
          );
          return {
            refused: refused.map((record) => ({
              record,
              reason: 'IDENTITY_LIMIT',
              error: `${record.value.messageId} would merge too many identities`,
            })),
            durable: Promise.resolve(),
          };
        },
        { commitWhenDurable: true },
      );
      await send(events, ['ok-1', 'too-many-1', 'ok-2']);

      const [dead] = await scope.readTopic(deadLetters, 1);
      expect(headerText(dead, KafkaHeaders.deadLetterReason)).toBe('IDENTITY_LIMIT');
      expect(headerText(dead, KafkaHeaders.deadLetterError)).toBe(
        'too-many-1 would merge too many identities',
      );
      expect(decodeProtobuf(UpstreamEventSchema, dead as KafkaMessage).messageId).toBe(
        'too-many-1',
      );
      expect(handled).toEqual(['ok-1', 'ok-2']);
      await eventually(async () => expect(await committed(events)).toBe('3'));
    });
  });
});
