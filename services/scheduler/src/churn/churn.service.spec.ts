import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { MembershipTransitionSchema, TransitionKind } from '@shoal/contracts';
import { InMemoryChurnRepository } from '../../test/in-memory-churn.repository';
import { ChurnService, type CountedTransition } from './churn.service';

const { ENTERED, EXITED } = TransitionKind;

/** A transition read at partition/offset, of a segment, at a time of day (UTC, Nov 2026). */
const at = (
  partition: number,
  offset: number,
  kind: TransitionKind,
  { segmentId = 'seg_a', when = '2026-11-20T10:00:00Z' } = {},
): CountedTransition => ({
  partition,
  offset,
  transition: create(MembershipTransitionSchema, {
    id: `${segmentId}-${partition}-${offset}`,
    kind,
    segmentId,
    profileId: `p${offset}`,
    occurredAt: timestampFromMs(Date.parse(when)),
    sequence: 1n,
  }),
});

const setUp = () => {
  const repository = new InMemoryChurnRepository();
  const churn = new ChurnService(repository);
  const figures = async (segmentId: string, days: string[]) =>
    (await churn.days(segmentId, days)).map((d) => [d.day, d.entered, d.exited]);
  return { repository, churn, figures };
};

describe('ChurnService', () => {
  it('counts entries and exits per segment and per UTC day of the change, over partitions', async () => {
    const { churn, figures } = setUp();
    await churn.count([
      at(0, 0, ENTERED),
      at(0, 1, ENTERED, { when: '2026-11-20T23:59:59Z' }),
      at(1, 0, EXITED),
      at(1, 1, ENTERED, { when: '2026-11-21T00:00:00Z' }),
      at(1, 2, ENTERED, { segmentId: 'seg_b' }),
    ]);
    expect(await figures('seg_a', ['2026-11-19', '2026-11-20', '2026-11-21'])).toEqual([
      ['2026-11-19', 0, 0],
      ['2026-11-20', 2, 1],
      ['2026-11-21', 1, 0],
    ]);
    expect(await figures('seg_b', ['2026-11-20'])).toEqual([['2026-11-20', 1, 0]]);
  });

  it('counts nothing more when a batch is delivered again', async () => {
    const { churn, figures } = setUp();
    const batch = [at(0, 10, ENTERED), at(0, 11, EXITED), at(1, 4, ENTERED)];
    await churn.count(batch);
    await churn.count(batch);
    expect(await figures('seg_a', ['2026-11-20'])).toEqual([['2026-11-20', 2, 1]]);
  });

  it('counts only the new part of a re-delivery cut differently from the first delivery', async () => {
    const { churn, figures } = setUp();
    const records = [0, 1, 2, 3, 4, 5].map((offset) => at(0, offset, ENTERED));
    await churn.count(records.slice(0, 3));
    await churn.count(records); // after a crash before the commit, from offset 0 again
    expect(await figures('seg_a', ['2026-11-20'])).toEqual([['2026-11-20', 6, 0]]);
  });

  it('keeps each partition’s mark apart: a low offset of one partition still counts', async () => {
    const { churn, figures } = setUp();
    await churn.count([at(0, 100, ENTERED)]);
    await churn.count([at(1, 3, ENTERED), at(2, 0, EXITED)]);
    expect(await figures('seg_a', ['2026-11-20'])).toEqual([['2026-11-20', 2, 1]]);
  });

  it('counts once when another consumer counted part of the records between its read and its write', async () => {
    const { churn, repository, figures } = setUp();
    const batch = [at(0, 7, ENTERED), at(0, 8, ENTERED)];
    const other = new ChurnService(repository); // still holding the partition in a rebalance
    repository.beforeAdd = async () => {
      repository.beforeAdd = async () => undefined;
      await other.count(batch.slice(0, 1));
    };
    await churn.count(batch);
    expect(await figures('seg_a', ['2026-11-20'])).toEqual([['2026-11-20', 2, 0]]);
  });

  it('reads each (segment, day) once and then writes each batch in one round trip', async () => {
    const { churn, repository, figures } = setUp();
    const segments = ['seg_a', 'seg_b', 'seg_c'];
    let offset = 0;
    const batch = () =>
      segments.flatMap((segmentId) =>
        [0, 1].map((partition) => at(partition, offset++, ENTERED, { segmentId })),
      );
    for (let i = 0; i < 5; i++) await churn.count(batch());
    expect(repository.trips).toEqual({ reads: 3, writes: 5 });
    for (const segmentId of segments)
      expect(await figures(segmentId, ['2026-11-20'])).toEqual([['2026-11-20', 10, 0]]);
  });

  it('counts once when the partition went to another consumer and came back with a re-delivery', async () => {
    const { churn, repository, figures } = setUp();
    const other = new ChurnService(repository);
    const records = [0, 1, 2, 3, 4, 5, 6].map((offset) => at(0, offset, ENTERED));
    await churn.count(records.slice(0, 2)); // remembers mark 1
    await other.count(records.slice(2, 5)); // the partition moved: mark 4
    await churn.count(records.slice(3)); // back, re-delivered from offset 3: only 5 and 6 are new
    expect(await figures('seg_a', ['2026-11-20'])).toEqual([['2026-11-20', 7, 0]]);
  });

  it('counts the rest of a batch when one of its groups was moved by another consumer', async () => {
    const { churn, repository, figures } = setUp();
    const other = new ChurnService(repository);
    await churn.count([at(0, 0, ENTERED), at(0, 1, EXITED, { segmentId: 'seg_b' })]);
    await other.count([at(0, 2, ENTERED)]); // only seg_a's mark moves
    await churn.count([
      at(0, 2, ENTERED),
      at(0, 3, ENTERED),
      at(0, 4, EXITED, { segmentId: 'seg_b' }),
    ]);
    expect(await figures('seg_a', ['2026-11-20'])).toEqual([['2026-11-20', 3, 0]]);
    expect(await figures('seg_b', ['2026-11-20'])).toEqual([['2026-11-20', 0, 2]]);
  });

  it('counts a batch of many transitions of one (segment, day)', async () => {
    const { churn, figures } = setUp();
    const many = Array.from({ length: 200_000 }, (_, offset) =>
      at(0, offset, offset % 4 === 0 ? EXITED : ENTERED),
    );
    await churn.count(many);
    expect(await figures('seg_a', ['2026-11-20'])).toEqual([['2026-11-20', 150_000, 50_000]]);
  });
});
