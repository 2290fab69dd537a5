import type { TopicSpec } from '@shoal/contracts';
import { type Kafka, KafkaJSProtocolError, type KafkaMessage } from 'kafkajs';
import pino from 'pino';
import { TopicFollower, fetchTopicEnds } from './topic-follower';
import { TopicNames } from './topics';

/** An admin client whose offset reads fail with the given errors first. */
function kafkaFailingWith(...failures: Error[]): { kafka: Kafka; attempts: () => number } {
  let attempts = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: async () => {
      const failure = failures[attempts++];
      if (failure) throw failure;
      return [{ partition: 0, offset: '5', high: '5', low: '0' }];
    },
  };
  return { kafka: { admin: () => admin } as unknown as Kafka, attempts: () => attempts };
}

const notLeader = () =>
  new KafkaJSProtocolError({
    message: 'This server is not the leader for that topic-partition',
    type: 'NOT_LEADER_FOR_PARTITION',
    code: 6,
    retriable: true,
  } as never);

/** A follower of the topic "followed" on `kafka`, logging nothing. */
function followerOn(kafka: Kafka, handle: (messages: KafkaMessage[]) => Promise<void>) {
  return new TopicFollower({
    kafka,
    names: new TopicNames(''),
    topic: { name: 'followed' } as TopicSpec,
    name: 'test',
    logger: pino({ level: 'silent' }),
    handle,
  });
}

describe('fetchTopicEnds', () => {
  it('retries while a just-created partition has no leader yet', async () => {
    const { kafka, attempts } = kafkaFailingWith(notLeader(), notLeader());
    await expect(fetchTopicEnds(kafka, 't')).resolves.toEqual([
      { partition: 0, offset: '5', high: '5', low: '0' },
    ]);
    expect(attempts()).toBe(3);
  });

  it('gives up at once on a failure that retrying cannot fix', async () => {
    const { kafka, attempts } = kafkaFailingWith(new RangeError('a bug'));
    await expect(fetchTopicEnds(kafka, 't')).rejects.toThrow('a bug');
    expect(attempts()).toBe(1);
  });
});

describe('TopicFollower', () => {
  /** A Kafka whose one-partition topic holds one record, and whose consumer hands batches to the test. */
  function followed() {
    let eachBatch: (payload: {
      batch: { partition: number; messages: KafkaMessage[] };
    }) => Promise<void> = async () => undefined;
    const admin = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchTopicOffsets: async () => [{ partition: 0, offset: '1', high: '1', low: '0' }],
    };
    const consumer = {
      connect: async () => undefined,
      subscribe: async () => undefined,
      disconnect: async () => undefined,
      run: async (config: { eachBatch: typeof eachBatch }) => {
        eachBatch = config.eachBatch;
      },
    };
    const kafka = { admin: () => admin, consumer: () => consumer } as unknown as Kafka;
    const deliver = () =>
      eachBatch({
        batch: {
          partition: 0,
          messages: [{ offset: '0', key: null, value: Buffer.from('x') } as KafkaMessage],
        },
      });
    return { kafka, deliver };
  }

  it('is healthy again once a batch that failed (the store away) is handled on redelivery', async () => {
    const { kafka, deliver } = followed();
    let storeUp = false;
    const follower = followerOn(kafka, async () => {
      if (!storeUp) throw new Error('connect ECONNREFUSED');
    });
    const started = follower.start();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(deliver()).rejects.toThrow('ECONNREFUSED');
    expect(() => follower.health()).toThrow('following followed failed: connect ECONNREFUSED');

    storeUp = true;
    await deliver();
    await started;
    expect(follower.health()).toBe('following followed');
  });
});

describe('TopicFollower.readToEnd', () => {
  /**
   * A one-partition topic whose end the test moves (`end`), an admin client that counts its
   * reads of the ends (each answered when the test says, or at once), and batches delivered by
   * the test.
   */
  function topic() {
    const state = {
      end: 0,
      reads: 0,
      admins: 0,
      failNextRead: false,
      /** Answers reads at once; when false they wait for `answerReads`. */
      prompt: true,
    };
    const waitingReads: (() => void)[] = [];
    let eachBatch: (payload: {
      batch: { partition: number; messages: KafkaMessage[] };
    }) => Promise<void> = async () => undefined;
    const kafka = {
      admin: () => {
        state.admins += 1;
        return {
          connect: async () => undefined,
          disconnect: async () => undefined,
          fetchTopicOffsets: async () => {
            state.reads += 1;
            const end = state.end;
            if (!state.prompt) await new Promise<void>((resolve) => waitingReads.push(resolve));
            if (state.failNextRead) {
              state.failNextRead = false;
              throw new Error('connect ECONNREFUSED');
            }
            return [{ partition: 0, offset: String(end), high: String(end), low: '0' }];
          },
        };
      },
      consumer: () => ({
        connect: async () => undefined,
        subscribe: async () => undefined,
        disconnect: async () => undefined,
        run: async (config: { eachBatch: typeof eachBatch }) => {
          eachBatch = config.eachBatch;
        },
      }),
    } as unknown as Kafka;
    const follower = followerOn(kafka, async () => undefined);
    /** Delivers records [from, to) as one batch. */
    const deliver = (from: number, to: number) =>
      eachBatch({
        batch: {
          partition: 0,
          messages: Array.from(
            { length: to - from },
            (_, i) =>
              ({ offset: String(from + i), key: null, value: Buffer.from('x') }) as KafkaMessage,
          ),
        },
      });
    const answerReads = () => waitingReads.splice(0).forEach((answer) => answer());
    return { state, follower, deliver, answerReads };
  }

  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('resolves once the records on the topic when it was called are handled, not before', async () => {
    const { state, follower, deliver } = topic();
    await follower.start();
    state.end = 3;
    let reached: boolean | undefined;
    void follower.readToEnd(5_000).then((r) => (reached = r));
    await settle();
    await deliver(0, 2);
    await settle();
    expect(reached).toBeUndefined();
    await deliver(2, 3);
    await settle();
    expect(reached).toBe(true);
    // already there: no wait beyond the read of the ends
    await expect(follower.readToEnd(5_000)).resolves.toBe(true);
  });

  it('shares one read of the ends among callers at the same moment, and never answers from a read older than the call', async () => {
    const { state, follower, answerReads } = topic();
    await follower.start();
    const before = state.reads; // the start's own
    state.prompt = false;
    const first = follower.readToEnd(5_000);
    await settle();
    // these arrive while the first read is on its way: it may miss what they wrote
    const later = Array.from({ length: 10 }, () => follower.readToEnd(5_000));
    await settle();
    expect(state.reads - before).toBe(1);
    answerReads();
    await expect(first).resolves.toBe(true);
    await settle();
    expect(state.reads - before).toBe(2);
    answerReads();
    await expect(Promise.all(later)).resolves.toEqual(Array(10).fill(true));
    expect(state.reads - before).toBe(2);
  });

  it('answers false when the end is not reached in time, and does not wait again for an end that never comes', async () => {
    const { state, follower } = topic();
    await follower.start();
    // a compacted tail: the broker counts 4 records, only 3 are ever delivered
    state.end = 4;
    await expect(follower.readToEnd(30)).resolves.toBe(false);
    const started = performance.now();
    await expect(follower.readToEnd(5_000)).resolves.toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('answers false when the ends cannot be read, and reads them on a new client next time', async () => {
    const { state, follower } = topic();
    await follower.start();
    state.failNextRead = true;
    await expect(follower.readToEnd(5_000)).resolves.toBe(false);
    await expect(follower.readToEnd(5_000)).resolves.toBe(true);
    // the first admin client is the start's own read; then one that failed, then a new one
    expect(state.admins).toBe(3);
  });

  it('lets every waiter go, unanswered, when stopped', async () => {
    const { state, follower } = topic();
    await follower.start();
    state.end = 2;
    const waiting = follower.readToEnd(60_000);
    await settle();
    await follower.stop();
    await expect(waiting).resolves.toBe(false);
    await expect(follower.readToEnd(60_000)).resolves.toBe(false);
  });
});
