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
    const follower = new TopicFollower({
      kafka,
      names: new TopicNames(''),
      topic: { name: 'followed' } as TopicSpec,
      name: 'test',
      logger: pino({ level: 'silent' }),
      handle: async () => {
        if (!storeUp) throw new Error('connect ECONNREFUSED');
      },
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
