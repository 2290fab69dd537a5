import type { TopicSpec } from '@shoal/contracts';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { Metrics } from '../metrics/metrics';
import type { Clock } from '../time/clock';
import { BatchConsumer } from './batch-consumer';
import { restartDelayMs } from './consumer-restarts';
import type { EventPublisher } from './event-publisher';
import { PartitionedProcessor, type PartitionWork } from './partitioned-processor';
import { TopicNames } from './topics';

type Listener = (event: { payload: unknown }) => void;

/** A kafkajs consumer whose group events the test raises; counts what was asked of it. */
class FakeConsumer {
  readonly events = {
    CRASH: 'consumer.crash',
    GROUP_JOIN: 'consumer.group_join',
    REBALANCING: 'consumer.rebalancing',
  };
  connects = 0;
  runs = 0;
  disconnects = 0;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(private readonly connectFailure: () => Error | undefined) {}

  on(event: string, listener: Listener): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  emit(event: keyof FakeConsumer['events'], payload: unknown): void {
    for (const listener of this.listeners.get(this.events[event]) ?? []) listener({ payload });
  }

  /** kafkajs gave up on it (restart: false), as after a non-retriable error. */
  giveUp(message = 'Failed to find group coordinator'): void {
    this.emit('CRASH', { error: new Error(message), restart: false, groupId: 'g' });
  }

  joined(partitions: readonly number[] = []): void {
    this.emit('GROUP_JOIN', { memberAssignment: { topic: [...partitions] } });
  }

  async connect(): Promise<void> {
    this.connects += 1;
    const failure = this.connectFailure();
    if (failure) throw failure;
  }

  async subscribe(): Promise<void> {}

  async run(): Promise<void> {
    this.runs += 1;
  }

  async disconnect(): Promise<void> {
    this.disconnects += 1;
  }

  async commitOffsets(): Promise<void> {}

  pause(): void {}
}

/** A Kafka client that hands out fake consumers; connecting fails while `failing` says so. */
function fakeKafka(failing: () => Error | undefined = () => undefined): {
  kafka: Kafka;
  consumers: FakeConsumer[];
  latest: () => FakeConsumer;
} {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: () => {
      const consumer = new FakeConsumer(failing);
      consumers.push(consumer);
      return consumer;
    },
  } as unknown as Kafka;
  return {
    kafka,
    consumers,
    latest: () => {
      const last = consumers[consumers.length - 1];
      if (!last) throw new Error('no consumer created');
      return last;
    },
  };
}

const logger = pino({ level: 'silent' });
const clock: Clock = { now: () => new Date() };
const backoff = { initialMs: 5, maxMs: 20 };
const topic = {
  name: 'things',
  deadLetter: { name: 'things.dlq' },
} as unknown as TopicSpec;

/** Resolves once `check` passes (it throws until then), or fails after 2 s. */
async function eventually(check: () => void): Promise<void> {
  const until = Date.now() + 2_000;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

describe('restartDelayMs', () => {
  it('doubles per attempt up to the cap, jittered between half and all of it', () => {
    const policy = { initialMs: 1_000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelayMs(n, policy, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    expect(restartDelayMs(3, policy, () => 0)).toBe(2_000);
    expect(restartDelayMs(40, policy, () => 0.5)).toBe(22_500);
  });
});

describe('BatchConsumer when kafkajs gives up on its consumer', () => {
  function batchConsumer(kafka: Kafka) {
    return new BatchConsumer({
      kafka,
      names: new TopicNames('t.'),
      publisher: {} as EventPublisher,
      options: {
        topic,
        groupId: 'things',
        handler: { decode: () => undefined, handleBatch: async () => undefined },
      },
      maxMessageBytes: 1_000_000,
      stalledAfterMs: 60_000,
      clock,
      logger,
      metrics: new Metrics('test'),
      restartBackoff: backoff,
    });
  }

  it('recreates the consumer, which rejoins its group, and is healthy again', async () => {
    const { kafka, consumers, latest } = fakeKafka();
    const consumer = batchConsumer(kafka);
    await consumer.start();
    latest().joined();
    expect(consumer.health()).toBe('consuming t.things');

    latest().giveUp();
    expect(() => consumer.health()).toThrow(
      /consumer t\.things down since .*recreating it.*: kafkajs gave up on it: Failed to find group coordinator/,
    );

    await eventually(() => expect(consumers).toHaveLength(2));
    await eventually(() => expect(latest().runs).toBe(1));
    expect(() => consumer.health()).toThrow(/attempt 1 under way/);
    latest().joined();
    expect(consumer.health()).toBe('consuming t.things');
    await consumer.stop();
  });

  it('keeps trying, with backoff, while the broker cannot be reached', async () => {
    let brokerDown = false;
    const { kafka, consumers, latest } = fakeKafka(() =>
      brokerDown ? new Error('connect ECONNREFUSED') : undefined,
    );
    const consumer = batchConsumer(kafka);
    await consumer.start();
    latest().joined();

    brokerDown = true;
    latest().giveUp();
    await eventually(() => expect(consumers.length).toBeGreaterThanOrEqual(4));
    expect(() => consumer.health()).toThrow(/restart failed: connect ECONNREFUSED/);

    brokerDown = false;
    const before = consumers.length;
    await eventually(() => expect(consumers.length).toBeGreaterThan(before));
    await eventually(() => expect(latest().runs).toBe(1));
    latest().joined();
    expect(consumer.health()).toBe('consuming t.things');
    await consumer.stop();
  });

  it('ignores what a replaced consumer reports', async () => {
    const { kafka, consumers, latest } = fakeKafka();
    const consumer = batchConsumer(kafka);
    await consumer.start();
    const first = latest();
    first.joined();
    first.giveUp();
    await eventually(() => expect(consumers).toHaveLength(2));
    latest().joined();

    first.giveUp();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumers).toHaveLength(2);
    expect(consumer.health()).toBe('consuming t.things');
    await consumer.stop();
  });

  it('makes no new consumer once stopped', async () => {
    const { kafka, consumers, latest } = fakeKafka();
    const consumer = batchConsumer(kafka);
    await consumer.start();
    latest().joined();
    latest().giveUp();
    await consumer.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumers).toHaveLength(1);
  });
});

describe('PartitionedProcessor', () => {
  /** Partition work whose loads the test finishes (or fails) by hand. */
  function partitionWork() {
    const loads: { partitions: readonly number[]; done: () => void; fail: (e: Error) => void }[] =
      [];
    const revoked: number[] = [];
    const work: PartitionWork = {
      assign: (partitions) =>
        new Promise<void>((done, fail) => loads.push({ partitions, done, fail })),
      revoke: async (partitions) => {
        revoked.push(...partitions);
      },
      process: async () => undefined,
    };
    return { work, loads, revoked };
  }

  function processor(kafka: Kafka, work: PartitionWork, onStuck?: (reason: string) => void) {
    return new PartitionedProcessor({
      kafka,
      names: new TopicNames('t.'),
      groupId: 'membership',
      topics: [topic],
      work,
      logger,
      metrics: new Metrics('test'),
      clock,
      restartBackoff: backoff,
      ...(onStuck ? { onStuck } : {}),
    });
  }

  it('is not healthy until the partitions it was assigned are loaded', async () => {
    const { kafka, latest } = fakeKafka();
    const { work, loads } = partitionWork();
    const partitioned = processor(kafka, work);
    await partitioned.start();

    latest().joined([0, 1]);
    expect(() => partitioned.health()).toThrow('consumer t.membership is loading partitions 0, 1');

    loads[0]?.done();
    await eventually(() => expect(partitioned.health()).toBe('owns partitions 0, 1'));
    await partitioned.stop();
  });

  it('releases its partitions when kafkajs gives up, rejoins, and loads them again', async () => {
    const { kafka, consumers, latest } = fakeKafka();
    const { work, loads, revoked } = partitionWork();
    const partitioned = processor(kafka, work);
    await partitioned.start();
    latest().joined([0, 1]);
    loads[0]?.done();
    await eventually(() => expect(partitioned.health()).toBe('owns partitions 0, 1'));

    latest().giveUp();
    expect(() => partitioned.health()).toThrow(/consumer t\.membership down since/);
    await eventually(() => expect(revoked.sort()).toEqual([0, 1]));
    expect(partitioned.partitions.size).toBe(0);

    await eventually(() => expect(consumers).toHaveLength(2));
    await eventually(() => expect(latest().runs).toBe(1));
    latest().joined([0, 1]);
    expect(loads.map((l) => l.partitions)).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(() => partitioned.health()).toThrow('loading partitions 0, 1');
    loads[1]?.done();
    await eventually(() => expect(partitioned.health()).toBe('owns partitions 0, 1'));
    await partitioned.stop();
  });

  it('goes down and rejoins when loading its partitions fails, instead of staying broken', async () => {
    const { kafka, consumers, latest } = fakeKafka();
    const { work, loads, revoked } = partitionWork();
    const partitioned = processor(kafka, work);
    await partitioned.start();
    latest().joined([2]);

    loads[0]?.fail(new Error('store unreachable'));
    await eventually(() =>
      expect(() => partitioned.health()).toThrow(
        /down since .*: loading partitions 2 failed: store unreachable/,
      ),
    );
    await eventually(() => expect(consumers).toHaveLength(2));
    expect(consumers[0]?.disconnects).toBe(1);
    expect(revoked).toEqual([2]);
    await eventually(() => expect(latest().runs).toBe(1));
    latest().joined([2]);
    loads[1]?.done();
    await eventually(() => expect(partitioned.health()).toBe('owns partitions 2'));
    await partitioned.stop();
  });

  it('says it is stuck when its partitions cannot be released, and rejoins no group', async () => {
    const { kafka, consumers, latest } = fakeKafka();
    const { work, loads } = partitionWork();
    work.revoke = async () => {
      throw new Error('state lost');
    };
    const stuck: string[] = [];
    const partitioned = processor(kafka, work, (reason) => stuck.push(reason));
    await partitioned.start();
    latest().joined([0]);
    loads[0]?.done();

    latest().giveUp();
    await eventually(() => expect(stuck).toEqual(['releasing partitions 0 failed: state lost']));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumers).toHaveLength(1);
    await partitioned.stop();
  });
});
