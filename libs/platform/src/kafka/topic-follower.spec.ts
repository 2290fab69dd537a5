import { type Kafka, KafkaJSProtocolError } from 'kafkajs';
import { fetchTopicEnds } from './topic-follower';

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
