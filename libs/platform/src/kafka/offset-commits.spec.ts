import { OffsetCommits, type TopicPartitionOffset } from './offset-commits';

/** A commit function that records its requests and answers each when told to. */
function broker() {
  const requests: TopicPartitionOffset[][] = [];
  const answers: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const commit = (offsets: TopicPartitionOffset[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push(offsets);
      answers.push({ resolve, reject });
    });
  return { requests, answers, commit };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('offset commits', () => {
  it('commits the offsets of partitions that became due at the same time in one request', async () => {
    const { requests, answers, commit } = broker();
    const commits = new OffsetCommits(commit);
    const done = [0, 1, 2].map((partition) => commits.commit('t', partition, '10'));
    await settle();
    expect(requests).toEqual([
      [
        { topic: 't', partition: 0, offset: '10' },
        { topic: 't', partition: 1, offset: '10' },
        { topic: 't', partition: 2, offset: '10' },
      ],
    ]);
    answers[0]?.resolve();
    await Promise.all(done);
  });

  it('commits only the highest offset of a partition asked for while a request was in flight', async () => {
    const { requests, answers, commit } = broker();
    const commits = new OffsetCommits(commit);
    const first = commits.commit('t', 0, '5');
    await settle();
    const later = [commits.commit('t', 0, '7'), commits.commit('t', 0, '9')];
    answers[0]?.resolve();
    await first;
    await settle();
    expect(requests[1]).toEqual([{ topic: 't', partition: 0, offset: '9' }]);
    answers[1]?.resolve();
    await Promise.all(later);
    expect(requests).toHaveLength(2);
  });

  it('never moves a partition back when a lower offset is asked for after a higher one', async () => {
    const { requests, answers, commit } = broker();
    const commits = new OffsetCommits(commit);
    const both = [commits.commit('t', 3, '20'), commits.commit('t', 3, '12')];
    await settle();
    expect(requests).toEqual([[{ topic: 't', partition: 3, offset: '20' }]]);
    answers[0]?.resolve();
    await Promise.all(both);
  });

  it('fails the callers of a refused request and commits later offsets afresh', async () => {
    const { requests, answers, commit } = broker();
    const commits = new OffsetCommits(commit);
    const refused = commits.commit('t', 0, '4');
    await settle();
    answers[0]?.reject(new Error('REBALANCE_IN_PROGRESS'));
    await expect(refused).rejects.toThrow('REBALANCE_IN_PROGRESS');
    const next = commits.commit('t', 0, '6');
    await settle();
    expect(requests[1]).toEqual([{ topic: 't', partition: 0, offset: '6' }]);
    answers[1]?.resolve();
    await next;
  });
});

describe('paced offset commits', () => {
  afterEach(() => jest.useRealTimers());

  it('starts a request no sooner than the interval after the one before, with all asked for meanwhile', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'performance'] });
    const { requests, answers, commit } = broker();
    const commits = new OffsetCommits(commit, 1_000);
    const first = commits.commit('t', 0, '1');
    await settle();
    expect(requests).toHaveLength(1);
    answers[0]?.resolve();
    await first;
    // three more batches of two partitions are done within the interval: one request for them
    const later = [
      commits.commit('t', 0, '2'),
      commits.commit('t', 1, '5'),
      commits.commit('t', 0, '3'),
    ];
    await settle();
    expect(requests).toHaveLength(1);
    jest.advanceTimersByTime(1_000);
    await settle();
    expect(requests[1]).toEqual([
      { topic: 't', partition: 0, offset: '3' },
      { topic: 't', partition: 1, offset: '5' },
    ]);
    answers[1]?.resolve();
    await Promise.all(later);
  });

  it('sends at once after flush, and without waiting from then on', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'performance'] });
    const { requests, answers, commit } = broker();
    const commits = new OffsetCommits(commit, 60_000);
    const first = commits.commit('t', 0, '1');
    await settle();
    answers[0]?.resolve();
    await first;
    const due = commits.commit('t', 0, '2');
    await settle();
    expect(requests).toHaveLength(1);
    commits.flush();
    await settle();
    expect(requests).toHaveLength(2);
    answers[1]?.resolve();
    await due;
    const after = commits.commit('t', 0, '3');
    await settle();
    expect(requests).toHaveLength(3);
    answers[2]?.resolve();
    await after;
  });
});
