import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  type SegmentEvaluationStatus,
  SegmentEvaluationStatusSchema,
  SegmentState,
} from '@shoal/contracts';
import type {
  SegmentStatusChange,
  SegmentStatusRepositoryPort,
} from '../src/segment-status/segment-status.repository.port';

/** What every segment-status repository must do, run against each implementation. */
export function segmentStatusRepositoryContract(
  repository: () => Promise<SegmentStatusRepositoryPort>,
) {
  let store: SegmentStatusRepositoryPort;
  beforeEach(async () => {
    store = await repository();
  });

  const status = (segmentId: string, partition: number, memberCount: number) =>
    create(SegmentEvaluationStatusSchema, {
      segmentId,
      partition,
      partitionCount: 3,
      segmentVersion: 1n,
      state: SegmentState.READY,
      memberCount: BigInt(memberCount),
    });
  const change = (
    segmentId: string,
    reports: SegmentEvaluationStatus[],
    removedPartitions: number[] = [],
  ): SegmentStatusChange => ({ segmentId, reports, removedPartitions });
  /** Each segment's answer as (partition, count) pairs in partition order. */
  const counts = (answers: Map<string, SegmentEvaluationStatus[]>) =>
    Object.fromEntries(
      [...answers].map(([id, statuses]) => [
        id,
        statuses
          .map((s) => [s.partition, Number(s.memberCount)])
          .sort((a, b) => (a[0] as number) - (b[0] as number)),
      ]),
    );

  it('applies a batch of segments at once and answers each one’s partitions', async () => {
    expect(await store.apply([])).toEqual(new Map());
    const first = await store.apply([
      change('seg_a', [status('seg_a', 0, 5), status('seg_a', 1, 6)]),
      change('seg_b', [status('seg_b', 2, 7)]),
    ]);
    expect(counts(first)).toEqual({
      seg_a: [
        [0, 5],
        [1, 6],
      ],
      seg_b: [[2, 7]],
    });
    // a later batch: a report replaced, a partition added, another removed; seg_b untouched
    const second = await store.apply([
      change('seg_a', [status('seg_a', 0, 9), status('seg_a', 2, 1)], [1]),
      change('seg_c', [status('seg_c', 0, 3)]),
    ]);
    expect(counts(second)).toEqual({
      seg_a: [
        [0, 9],
        [2, 1],
      ],
      seg_c: [[0, 3]],
    });
    expect(counts(await store.apply([change('seg_b', [], [0])]))).toEqual({ seg_b: [[2, 7]] });
  });

  it('answers no partitions for a segment whose last one was removed, and keeps nothing of it', async () => {
    await store.apply([
      change('seg_a', [status('seg_a', 0, 5)]),
      change('seg_b', [status('seg_b', 0, 1)]),
    ]);
    const removed = await store.apply([change('seg_a', [], [0]), change('seg_b', [], [0])]);
    expect(counts(removed)).toEqual({ seg_a: [], seg_b: [] });
    // reported again, it starts from nothing
    expect(counts(await store.apply([change('seg_a', [status('seg_a', 1, 2)])]))).toEqual({
      seg_a: [[1, 2]],
    });
  });

  it('answers no partitions for removals of a segment it never had', async () => {
    expect(counts(await store.apply([change('seg_x', [], [0, 1])]))).toEqual({ seg_x: [] });
    expect(counts(await store.apply([change('seg_x', [status('seg_x', 2, 4)])]))).toEqual({
      seg_x: [[2, 4]],
    });
  });

  it('keeps every field of a report', async () => {
    const full = create(SegmentEvaluationStatusSchema, {
      ...status('seg_a', 1, 40),
      state: SegmentState.FAILED,
      lastError: 'a rule could not be evaluated',
      valueTrait: 'ltv',
      valueSum: 12.5,
      lastRefreshedAt: timestampFromMs(1_700_000_000_000),
    });
    const answer = await store.apply([change('seg_a', [full])]);
    expect(answer.get('seg_a')).toEqual([full]);
  });

  it('applies 500 segments in one batch', async () => {
    const changes = Array.from({ length: 500 }, (_, i) =>
      change(`seg_${i}`, [status(`seg_${i}`, i % 3, i)]),
    );
    const answers = await store.apply(changes);
    expect(answers.size).toBe(500);
    expect(answers.get('seg_499')?.map((s) => Number(s.memberCount))).toEqual([499]);
  });
}
