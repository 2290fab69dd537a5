import type { TopicSpec } from '@shoal/contracts';
import type { ConsumerRunConfig, EachBatchPayload, Kafka } from 'kafkajs';
import pino from 'pino';
import { Metrics } from '../metrics/metrics';
import { BatchConsumer } from './batch-consumer';
import type { EventPublisher } from './event-publisher';
import { TopicNames } from './topics';

/** A Kafka client whose one consumer keeps what it is asked to run, for the test to drive. */
function capturingKafka(): { kafka: Kafka; run: () => ConsumerRunConfig } {
  let config: ConsumerRunConfig | undefined;
  const consumer = {
    events: { CRASH: 'crash', GROUP_JOIN: 'join', REBALANCING: 'rebalancing' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (given: ConsumerRunConfig) => {
      config = given;
    },
    disconnect: async () => undefined,
    commitOffsets: async () => undefined,
    pause: () => undefined,
  };
  return {
    kafka: { consumer: () => consumer } as unknown as Kafka,
    run: () => {
      if (!config) throw new Error('the consumer was not run');
      return config;
    },
  };
}

describe('BatchConsumer', () => {
  afterEach(() => jest.useRealTimers());

  it('keeps heartbeating while its handler works on a batch longer than the heartbeat interval', async () => {
    jest.useFakeTimers();
    const { kafka, run } = capturingKafka();
    let finish: () => void = () => undefined;
    const consumer = new BatchConsumer<string>({
      kafka,
      names: new TopicNames('t.'),
      publisher: {} as EventPublisher,
      options: {
        topic: { name: 'things', deadLetter: { name: 'things.dlq' } } as unknown as TopicSpec,
        groupId: 'things',
        handler: {
          decode: (message) => message.value?.toString() ?? '',
          // e.g. claiming thousands of identifiers on a slow store
          handleBatch: () => new Promise<void>((resolve) => (finish = resolve)),
        },
      },
      maxMessageBytes: 1_000_000,
      stalledAfterMs: 600_000,
      clock: { now: () => new Date() },
      logger: pino({ level: 'silent' }),
      metrics: new Metrics('test'),
    });
    await consumer.start();
    const heartbeat = jest.fn(async () => undefined);
    const payload = {
      batch: {
        topic: 't.things',
        partition: 0,
        messages: [
          { offset: '0', key: null, value: Buffer.from('a'), timestamp: '0', headers: {} },
        ],
      },
      resolveOffset: () => undefined,
      heartbeat,
      commitOffsetsIfNecessary: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload;

    const handled = run().eachBatch?.(payload);
    await jest.advanceTimersByTimeAsync(40_000);
    // the group's session is 30 s: without beats in between, the member is dropped and every
    // uncommitted record is delivered again
    expect(heartbeat.mock.calls.length).toBeGreaterThanOrEqual(12);
    finish();
    await handled;
    const beats = heartbeat.mock.calls.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(heartbeat.mock.calls.length).toBe(beats);
    await consumer.stop();
  });
});
