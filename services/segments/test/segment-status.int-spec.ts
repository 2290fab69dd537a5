import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  SegmentEvaluationStatusSchema,
  SegmentKind,
  SegmentSort,
  SegmentState,
  segmentStatusTopic,
} from '@shoal/contracts';
import { encodeProtobuf } from '@shoal/platform';
import { eventually } from '@shoal/testing';
import { productExample, rule } from './segment-client';
import { segmentsForTests } from './segments-for-tests';

const REFRESHED_AT = Date.UTC(2026, 10, 30, 8);

describe('SegmentService shows membership’s status of each segment', () => {
  const { scope, c } = segmentsForTests();

  /** Publishes a partition's status as membership does: keyed "<segment id>/<partition>". */
  const report = (segmentId: string, partition: number, memberCount: number | null) =>
    scope.produce(segmentStatusTopic, [
      {
        key: `${segmentId}/${partition}`,
        value:
          memberCount === null
            ? null
            : encodeProtobuf(
                SegmentEvaluationStatusSchema,
                create(SegmentEvaluationStatusSchema, {
                  segmentId,
                  partition,
                  partitionCount: 2,
                  segmentVersion: 1n,
                  state: SegmentState.READY,
                  memberCount: BigInt(memberCount),
                  lastRefreshedAt: timestampFromMs(REFRESHED_AT + partition * 1_000),
                }),
              ),
      },
    ]);

  const make = async (name: string) => {
    const { segment } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: { name, rule: rule(productExample) },
    });
    return segment?.id ?? '';
  };

  it('in GetSegment and ListSegments, sorted by member count', async () => {
    const small = await make('Small');
    const large = await make('Large');
    const none = await make('Not reported');
    await report(large, 0, 400);
    await report(large, 1, 100);
    await report(small, 0, 7);
    await report(small, 1, 3);
    await eventually(async () => {
      const { segment } = await c.ann.getSegment({ id: large });
      expect(segment).toMatchObject({
        state: SegmentState.READY,
        memberCount: 500n,
        lastRefreshedAt: timestampFromMs(REFRESHED_AT),
      });
    }, 30_000);
    await eventually(async () => {
      const { segments } = await c.ann.listSegments({
        sort: SegmentSort.MEMBER_COUNT,
        descending: true,
      });
      expect(segments.map((s) => [s.id, s.memberCount])).toEqual([
        [large, 500n],
        [small, 10n],
        [none, 0n],
      ]);
    }, 30_000);
    expect((await c.ann.getSegment({ id: none })).segment?.state).toBe(SegmentState.COMPUTING);
  });

  it('forgets a partition whose status was tombstoned', async () => {
    const id = await make('Shrinking');
    await report(id, 0, 5);
    await report(id, 1, 6);
    await eventually(async () => {
      expect((await c.ann.getSegment({ id })).segment?.memberCount).toBe(11n);
    }, 30_000);
    await report(id, 1, null);
    await eventually(async () => {
      expect((await c.ann.getSegment({ id })).segment).toMatchObject({
        memberCount: 5n,
        state: SegmentState.COMPUTING,
      });
    }, 30_000);
  });
});
