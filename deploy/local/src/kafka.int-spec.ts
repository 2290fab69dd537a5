import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { LocalInfra } from './local-infra';

const MESSAGES = 1000;
const PARTITIONS = 3;

describe('the shared local Kafka', () => {
  const infra = new LocalInfra();
  let kafka: Kafka;

  beforeAll(async () => {
    const { endpoints } = await infra.up();
    kafka = new Kafka({
      clientId: 'local-infra-int-spec',
      brokers: endpoints.kafkaBrokers,
      logLevel: logLevel.WARN,
    });
  }, 300_000);

  it('delivers 1000 idempotently produced messages exactly once, in order per partition', async () => {
    const topic = `local-infra.exactly-once.${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS }],
      waitForLeaders: true,
    });

    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    for (let batch = 0; batch < MESSAGES / 100; batch++) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 100 }, (_, i) => {
          const sequence = batch * 100 + i;
          return { key: `key-${sequence % 7}`, value: String(sequence) };
        }),
      });
    }
    await producer.disconnect();

    const received = new Map<number, number[]>();
    let count = 0;
    const consumer = kafka.consumer({ groupId: `local-infra-int-spec-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const allReceived = new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          const values = batch.messages.map((message) => Number(message.value?.toString()));
          received.set(batch.partition, [...(received.get(batch.partition) ?? []), ...values]);
          count += values.length;
          if (count >= MESSAGES) resolve();
        },
      });
    });
    await allReceived;
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();

    const all = [...received.values()].flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
    expect(received.size).toBe(PARTITIONS);
    for (const values of received.values()) {
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  });

  it('reuses the running broker and store on a second up', async () => {
    const before = await infra.status();
    const { started } = await infra.up();
    const after = await infra.status();

    expect(started).toEqual([]);
    expect(after.map(({ component, pid, ready }) => ({ component, pid, ready }))).toEqual(
      before.map(({ component, pid }) => ({ component, pid, ready: true })),
    );
    expect(after.every((status) => status.pid !== undefined)).toBe(true);
  });
});
