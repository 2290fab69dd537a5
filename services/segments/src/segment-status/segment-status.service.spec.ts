import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { SegmentEvaluationStatusSchema, SegmentState } from '@shoal/contracts';
import { InMemorySegmentStatusRepository } from '../../test/in-memory-segment-status.repository';
import { ann, newSegmentsTestService, tagged } from '../../test/segments-test-service';
import { SEGMENT_STATUS_REPOSITORY } from './segment-status.repository.port';
import { type SegmentStatusRecord, SegmentStatusService } from './segment-status.service';

const T0 = Date.UTC(2026, 11, 1);

async function setUp() {
  const test = await newSegmentsTestService(SegmentStatusService, {
    providers: [
      { provide: SEGMENT_STATUS_REPOSITORY, useValue: new InMemorySegmentStatusRepository() },
      SegmentStatusService,
    ],
  });
  const segment = await test.make(ann, { name: 'Buyers' });
  const shown = async () => test.segments.get(segment.id, ann);
  return { ...test, segment, shown };
}

/** A partition's report, of two partitions, at version 1 unless said otherwise. */
function report(
  segmentId: string,
  partition: number,
  fields: {
    count?: number;
    state?: SegmentState;
    refreshedAt?: number;
    version?: number;
    error?: string;
    valueTrait?: string;
    valueSum?: number;
  } = {},
): SegmentStatusRecord {
  return {
    segmentId,
    partition,
    status: create(SegmentEvaluationStatusSchema, {
      segmentId,
      partition,
      partitionCount: 2,
      segmentVersion: BigInt(fields.version ?? 1),
      state: fields.state ?? SegmentState.READY,
      memberCount: BigInt(fields.count ?? 0),
      lastError: fields.error ?? '',
      valueTrait: fields.valueTrait ?? '',
      ...(fields.valueSum === undefined ? {} : { valueSum: fields.valueSum }),
      ...(fields.refreshedAt === undefined
        ? {}
        : { lastRefreshedAt: timestampFromMs(fields.refreshedAt) }),
    }),
  };
}

describe('SegmentStatusService', () => {
  it('shows the sum of the partitions’ counts, READY once every partition reported', async () => {
    const { sut, segment, shown } = await setUp();
    expect(await shown()).toMatchObject({ state: SegmentState.COMPUTING, memberCount: 0n });
    await sut.apply([report(segment.id, 0, { count: 3, refreshedAt: T0 })]);
    expect(await shown()).toMatchObject({ state: SegmentState.COMPUTING, memberCount: 3n });
    expect((await shown()).lastRefreshedAt).toBeUndefined();
    await sut.apply([report(segment.id, 1, { count: 4, refreshedAt: T0 + 5_000 })]);
    expect(await shown()).toMatchObject({
      state: SegmentState.READY,
      memberCount: 7n,
      lastRefreshedAt: timestampFromMs(T0),
    });
  });

  it('shows the value sum of the segment’s value trait once every partition summed it', async () => {
    const test = await setUp();
    const valued = await test.make(ann, { name: 'Valued', valueTrait: 'ltv' });
    const shown = () => test.segments.get(valued.id, ann);
    await test.sut.apply([report(valued.id, 0, { valueTrait: 'ltv', valueSum: 10.5 })]);
    expect((await shown()).valueSum).toBeUndefined();
    await test.sut.apply([report(valued.id, 1, { valueTrait: 'ltv', valueSum: 2.25 })]);
    expect((await shown()).valueSum).toBe(12.75);
    // membership still sums the trait the segment named before its edit: no sum is shown
    await test.update(ann, valued.id, 1n, { valueTrait: 'orders' }, ['valueTrait']);
    expect((await shown()).valueSum).toBeUndefined();
  });

  it('takes each partition’s last report, within a batch and across batches', async () => {
    const { sut, segment, shown } = await setUp();
    await sut.apply([
      report(segment.id, 0, { count: 3 }),
      report(segment.id, 1, { count: 4 }),
      report(segment.id, 0, { count: 10 }),
    ]);
    expect((await shown()).memberCount).toBe(14n);
    await sut.apply([report(segment.id, 1, { count: 1 })]);
    expect((await shown()).memberCount).toBe(11n);
  });

  it('moves last refreshed only when every partition finished a refresh', async () => {
    const { sut, segment, shown } = await setUp();
    const first = T0;
    await sut.apply([
      report(segment.id, 0, { refreshedAt: first }),
      report(segment.id, 1, { refreshedAt: first }),
    ]);
    await sut.apply([report(segment.id, 0, { refreshedAt: T0 + 3_600_000 })]);
    expect((await shown()).lastRefreshedAt).toEqual(timestampFromMs(first));
    await sut.apply([report(segment.id, 1, { refreshedAt: T0 + 3_601_000 })]);
    expect((await shown()).lastRefreshedAt).toEqual(timestampFromMs(T0 + 3_600_000));
  });

  it('shows FAILED with a failing partition’s reason', async () => {
    const { sut, segment, shown } = await setUp();
    await sut.apply([
      report(segment.id, 0),
      report(segment.id, 1, { state: SegmentState.FAILED, error: 'rule reads an unknown list' }),
    ]);
    expect(await shown()).toMatchObject({
      state: SegmentState.FAILED,
      stateDetail: 'rule reads an unknown list',
    });
  });

  it('forgets a partition whose status was tombstoned', async () => {
    const { sut, segment, shown } = await setUp();
    await sut.apply([report(segment.id, 0, { count: 3 }), report(segment.id, 1, { count: 4 })]);
    await sut.apply([{ segmentId: segment.id, partition: 1, status: null }]);
    expect(await shown()).toMatchObject({ state: SegmentState.COMPUTING, memberCount: 3n });
  });

  it('keeps a changed rule COMPUTING until every partition reports on its version', async () => {
    const { sut, segment, shown, update } = await setUp();
    await sut.apply([report(segment.id, 0, { count: 3 }), report(segment.id, 1, { count: 4 })]);
    const edited = await update(ann, segment.id, segment.version, { rule: tagged('y') }, ['rule']);
    expect(edited.segment).toMatchObject({ version: 2n, state: SegmentState.COMPUTING });
    await sut.apply([report(segment.id, 0, { count: 5 }), report(segment.id, 1, { version: 2 })]);
    expect(await shown()).toMatchObject({ state: SegmentState.COMPUTING, memberCount: 5n });
    await sut.apply([report(segment.id, 0, { count: 1, version: 2 })]);
    expect(await shown()).toMatchObject({ state: SegmentState.READY, memberCount: 1n });
  });

  it('ignores reports on segments it does not have', async () => {
    const { sut } = await setUp();
    await expect(sut.apply([report('seg_unknown', 0, { count: 3 })])).resolves.toBeUndefined();
  });
});
