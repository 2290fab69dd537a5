import { CloudEventHeaders, TransitionCause, TransitionKind } from '@shoal/contracts';
import { TestScope, eventually } from '@shoal/testing';
import { membershipService } from '../src/service';
import { MembershipHarness } from './membership-harness';

const RETIREMENT_READERS = {
  condition: {
    event: {
      name: 'Content Viewed',
      where: [{ path: 'topic', equals: 'retirement-planning' }],
      count: { gte: 3 },
    },
  },
};

describe('membership over real Kafka and the store', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  afterAll(() => scope.close());

  it('publishes segment.entered with CloudEvents headers when the third retirement article is read', async () => {
    await scope.start(membershipService, { MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '200' });
    await harness.define('seg_retirement', RETIREMENT_READERS);
    const now = Date.now();
    for (const minutes of [3, 2]) {
      await harness.event('user:reader', 'Content Viewed', now - minutes * 60_000, {
        topic: 'retirement-planning',
      });
    }
    await harness.event('user:reader', 'Content Viewed', now, { topic: 'other' });
    await harness.event('user:reader', 'Content Viewed', now, { topic: 'retirement-planning' });
    const [entered] = await eventually(async () => {
      const all = await harness.transitions();
      expect(all).toHaveLength(1);
      return all;
    }, 60_000);
    expect(entered?.transition).toMatchObject({
      kind: TransitionKind.ENTERED,
      segmentId: 'seg_retirement',
      segmentVersion: 1n,
      profileId: 'user:reader',
      cause: TransitionCause.EVENT,
      sequence: 1n,
    });
    const headers = Object.fromEntries(
      Object.entries(entered?.message.headers ?? {}).map(([k, v]) => [k, String(v)]),
    );
    expect(headers).toMatchObject({
      [CloudEventHeaders.specversion]: '1.0',
      [CloudEventHeaders.type]: 'shoal.segment.entered',
      [CloudEventHeaders.id]: entered?.transition.id,
      [CloudEventHeaders.subject]: 'user:reader',
      [CloudEventHeaders.source]: '/shoal/segments/seg_retirement',
    });
  });
});
