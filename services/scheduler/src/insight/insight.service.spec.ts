import { create } from '@bufbuild/protobuf';
import { SegmentEvaluationStatusSchema, SegmentState } from '@shoal/contracts';
import { CHURN_REPOSITORY } from '../churn/churn.repository.port';
import { ChurnService } from '../churn/churn.service';
import { InMemoryChurnRepository } from '../../test/in-memory-churn.repository';
import { InMemorySnapshotRepository } from '../../test/in-memory-snapshots.repository';
import { ann, newSchedulerTestService } from '../../test/scheduler-test-service';
import { INSIGHT_SETTINGS, InsightService } from './insight.service';
import { MemberCounts } from './member-counts';
import { SNAPSHOT_REPOSITORY } from './snapshots.repository.port';

const NOW = '2026-12-01T12:00:00Z';

async function setUp() {
  const snapshots = new InMemorySnapshotRepository();
  const counts = new MemberCounts();
  const t = await newSchedulerTestService(InsightService, {
    now: NOW,
    extra: {
      fakes: [
        [SNAPSHOT_REPOSITORY, snapshots],
        [CHURN_REPOSITORY, new InMemoryChurnRepository()],
      ],
      providers: [
        { provide: MemberCounts, useValue: counts },
        {
          provide: INSIGHT_SETTINGS,
          useValue: { snapshotSchedule: { cron: '0 0 * * *', timeZone: '' } },
        },
        ChurnService,
      ],
    },
  });
  /** Membership's report of a partition (of two) of seg_a. */
  const report = (
    partition: number,
    memberCount: number,
    value?: { trait: string; sum: number; valued: number },
  ) =>
    counts.apply([
      {
        segmentId: 'seg_a',
        partition,
        status: create(SegmentEvaluationStatusSchema, {
          segmentId: 'seg_a',
          partition,
          partitionCount: 2,
          state: SegmentState.READY,
          memberCount: BigInt(memberCount),
          ...(value
            ? {
                valueTrait: value.trait,
                valueSum: value.sum,
                valuedMemberCount: BigInt(value.valued),
              }
            : {}),
        }),
      },
    ]);
  return { ...t, snapshots, report, insight: t.sut };
}

describe('insight: value sums', () => {
  it('stores the value sum in the daily snapshot of a segment naming a value trait, and returns it in the history', async () => {
    const t = await setUp();
    t.define('seg_a', { valueTrait: 'ltv' });
    t.define('seg_b');
    t.report(0, 3, { trait: 'ltv', sum: 100.25, valued: 2 });
    t.report(1, 1, { trait: 'ltv', sum: 50, valued: 1 });
    await t.insight.takeSnapshot();
    const { snapshots } = await t.insight.history(
      { segmentId: 'seg_a', fromDay: '2026-12-01', toDay: '2026-12-01' },
      ann,
    );
    expect(snapshots).toEqual([
      expect.objectContaining({
        day: '2026-12-01',
        memberCount: 4,
        valueSum: 150.25,
        valueTrait: 'ltv',
      }),
    ]);
  });

  it('stores no sum while a partition has not reported one, nor one of another value trait', async () => {
    const t = await setUp();
    t.define('seg_a', { valueTrait: 'ltv' });
    t.report(0, 3, { trait: 'ltv', sum: 10, valued: 2 });
    await t.insight.takeSnapshot();
    // membership still sums the trait the segment named before its edit
    t.report(1, 1, { trait: 'orders', sum: 5, valued: 1 });
    await t.insight.takeSnapshot();
    const [snapshot] = [...t.snapshots.snapshots.values()];
    expect(snapshot).toMatchObject({ memberCount: 4 });
    expect(snapshot?.valueSum).toBeUndefined();
  });

  it('summarises the sum now and its change over 30 days against the snapshot then', async () => {
    const t = await setUp();
    t.define('seg_a', { valueTrait: 'ltv' });
    await t.snapshots.save([
      {
        segmentId: 'seg_a',
        day: '2026-11-01',
        memberCount: 2,
        valueSum: 80,
        valueTrait: 'ltv',
        takenAtMs: 0,
      },
    ]);
    t.report(0, 3, { trait: 'ltv', sum: 70, valued: 2 });
    t.report(1, 1, { trait: 'ltv', sum: 30, valued: 1 });
    expect(await t.insight.summary('seg_a', ann)).toMatchObject({
      memberCount: 4,
      valueTrait: 'ltv',
      valueSum: 100,
      valuedMemberCount: 3,
      valueSumChange30d: 20,
      valueSumChange30dPercent: 25,
    });
  });

  it('tells no change of the sum against a snapshot of another value trait, and no sum without one', async () => {
    const t = await setUp();
    t.define('seg_a', { valueTrait: 'ltv' });
    await t.snapshots.save([
      {
        segmentId: 'seg_a',
        day: '2026-11-01',
        memberCount: 2,
        valueSum: 80,
        valueTrait: 'orders',
        takenAtMs: 0,
      },
    ]);
    t.report(0, 3, { trait: 'ltv', sum: 70, valued: 2 });
    t.report(1, 1, { trait: 'ltv', sum: 30, valued: 1 });
    const summary = await t.insight.summary('seg_a', ann);
    expect([summary.valueSum, summary.valueSumChange30d]).toEqual([100, undefined]);
    t.define('seg_a', { valueTrait: '', version: 2n });
    expect((await t.insight.summary('seg_a', ann)).valueSum).toBeUndefined();
  });
});
