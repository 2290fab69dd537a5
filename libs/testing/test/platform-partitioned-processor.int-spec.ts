// The platform's real-infrastructure tests live beside the harness they need (the platform
// itself cannot depend on @shoal/testing without a cycle).
import type { TopicSpec } from '@shoal/contracts';
import {
  Metrics,
  PartitionedProcessor,
  SecretMask,
  TopicNames,
  createLogger,
  ensureTopics,
  systemClock,
} from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { TestScope, eventually } from '../src';

const logger = createLogger({
  service: 'processor-test',
  version: '0',
  level: 'silent',
  secrets: new SecretMask(),
});

function topicOf(name: string): TopicSpec<null> {
  return {
    name: `platform.test.${name}`,
    description: 'test records',
    payload: null,
    key: 'any',
    encodings: ['raw'],
    partitions: 2,
    retentionMs: 3_600_000,
    cleanupPolicy: 'delete',
  };
}

/** Resolves when `release` is called. */
function held(): { promise: Promise<void>; release: () => void } {
  let release = () => undefined as void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

describe('partitioned processor', () => {
  const scope = new TestScope();
  const names = new TopicNames(scope.topicPrefix);
  const metrics = new Metrics('processor-test');
  const processors: PartitionedProcessor[] = [];

  /** A processor over `topic` that records each partition's values in order; `hold` may hold a batch. */
  const startProcessor = async (
    topic: TopicSpec<null>,
    hold: (partition: number, values: string[]) => Promise<void> = async () => undefined,
    maxQueuedRecords?: number,
  ) => {
    const admin = scope.kafka().admin();
    await admin.connect();
    await ensureTopics(admin, [topic], names, { replicationFactor: 1, maxMessageBytes: 1 << 20 });
    await admin.disconnect();
    const seen = new Map<number, string[]>([
      [0, []],
      [1, []],
    ]);
    const processor = new PartitionedProcessor({
      kafka: scope.kafka(),
      names,
      groupId: `group-${topic.name}`,
      topics: [topic],
      logger,
      metrics,
      clock: systemClock,
      ...(maxQueuedRecords === undefined ? {} : { maxQueuedRecords }),
      work: {
        assign: async () => undefined,
        revoke: async () => undefined,
        process: async ({
          partition,
          messages,
        }: {
          partition: number;
          messages: KafkaMessage[];
        }) => {
          const values = messages.map((m) => String(m.value));
          await hold(partition, values);
          seen.get(partition)?.push(...values);
        },
      },
    });
    processors.push(processor);
    await processor.start();
    await eventually(() => expect(processor.partitions.size).toBe(2));
    return { processor, seen };
  };

  const send = (topic: TopicSpec<null>, partition: number, values: string[]) =>
    scope.produce(
      topic,
      values.map((value) => ({ partition, value })),
    );

  afterAll(async () => {
    for (const processor of processors) await processor.stop();
    await scope.close();
  });

  it("goes on with the other partitions' records while one partition's batch is held", async () => {
    const topic = topicOf('held');
    const slow = held();
    let holding = false;
    const { seen } = await startProcessor(topic, async (partition, values) => {
      if (partition === 0 && values.includes('a1')) {
        holding = true;
        await slow.promise;
      }
    });
    await send(topic, 0, ['a1']);
    await eventually(() => expect(holding).toBe(true));

    await send(topic, 1, ['b1']);
    await send(topic, 1, ['b2']);

    await eventually(() => expect(seen.get(1)).toEqual(['b1', 'b2']), 15_000);
    expect(seen.get(0)).toEqual([]);
    await send(topic, 0, ['a2']);
    slow.release();
    await eventually(() => expect(seen.get(0)).toEqual(['a1', 'a2']));
  });

  it("delivers a partition's records in order and once each while its work lags behind", async () => {
    const topic = topicOf('lagging');
    const { seen } = await startProcessor(topic, async (partition) => {
      if (partition === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const sent = Array.from({ length: 300 }, (_, i) => `r${i}`);
    for (let i = 0; i < sent.length; i += 10) await send(topic, 0, sent.slice(i, i + 10));

    await eventually(() => expect(seen.get(0)).toHaveLength(sent.length), 30_000);
    expect(seen.get(0)).toEqual(sent);
  });

  it('pauses a partition whose lane has too many records waiting, and loses none of them', async () => {
    const topic = topicOf('paused');
    const { seen } = await startProcessor(
      topic,
      async () => new Promise((resolve) => setTimeout(resolve, 20)),
      5,
    );
    const sent = Array.from({ length: 100 }, (_, i) => `r${i}`);
    for (let i = 0; i < sent.length; i += 10) await send(topic, 0, sent.slice(i, i + 10));

    await eventually(() => expect(seen.get(0)).toHaveLength(sent.length), 30_000);
    expect(seen.get(0)).toEqual(sent);
  });

  it('fetches a failed batch again, and the batches queued behind it, in order', async () => {
    const topic = topicOf('failing');
    let failures = 0;
    const { seen } = await startProcessor(topic, async (_partition, values) => {
      if (values.includes('r25') && failures < 2) {
        failures++;
        throw new Error('the store is down');
      }
    });
    const sent = Array.from({ length: 60 }, (_, i) => `r${i}`);
    for (let i = 0; i < sent.length; i += 5) await send(topic, 0, sent.slice(i, i + 5));

    await eventually(() => expect(seen.get(0)).toHaveLength(sent.length), 30_000);
    expect(seen.get(0)).toEqual(sent);
    expect(failures).toBe(2);
  });
});
