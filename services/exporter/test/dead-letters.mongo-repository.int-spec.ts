import { create, toJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { DeadLetterSchema, SyncRunKind } from '@shoal/contracts';
import { TestScope } from '@shoal/testing';
import type { Db } from 'mongodb';
import { SyncRunMongoRepository } from '../src/destinations/destinations.mongo-repository';

describe('dead letters in the store', () => {
  const scope = new TestScope();
  let db: Db;
  let repository: SyncRunMongoRepository;

  beforeAll(async () => {
    db = (await scope.mongo()).db(`t${scope.id}_exporter`);
    repository = new SyncRunMongoRepository(db);
  });
  afterAll(() => scope.close());

  const letter = (id: string, at: string, fields: Partial<Record<string, unknown>> = {}) =>
    create(DeadLetterSchema, {
      id,
      destinationId: 'dst_1',
      runId: id.split('/')[0],
      segmentId: 'seg_a',
      runKind: SyncRunKind.INCREMENTAL,
      payload: '[]',
      records: 1n,
      deadLetteredAt: timestampFromDate(new Date(at)),
      ...fields,
    });

  it('keeps where the records stood, and finds incremental ones of the given segments oldest first', async () => {
    await repository.deadLetter(letter('run_b/1', '2026-12-01T00:02:00Z'), [
      { partition: 2, offset: 40 },
    ]);
    await repository.deadLetter(letter('run_a/1', '2026-12-01T00:01:00Z'), [
      { partition: 1, offset: 7 },
      { partition: 1, offset: 9 },
    ]);
    await repository.deadLetter(
      letter('run_full/1', '2026-12-01T00:00:00Z', { runKind: SyncRunKind.FULL }),
    );
    await repository.deadLetter(letter('run_c/1', '2026-12-01T00:00:00Z', { segmentId: 'seg_b' }));
    await repository.deadLetter(
      letter('run_d/1', '2026-12-01T00:00:00Z', { destinationId: 'dst_2' }),
    );

    const oldest = await repository.incrementalDeadLetters('dst_1', ['seg_a'], 10);
    expect(oldest.map(({ letter: l, positions }) => [l.id, positions])).toEqual([
      [
        'run_a/1',
        [
          { partition: 1, offset: 7 },
          { partition: 1, offset: 9 },
        ],
      ],
      ['run_b/1', [{ partition: 2, offset: 40 }]],
    ]);
    expect(await repository.countIncrementalDeadLetters('dst_1', ['seg_a', 'seg_b'])).toBe(3);
    expect(
      (await repository.deadLettersById('dst_1', ['run_d/1', 'run_b/1', 'nope'])).map(
        (s) => s.letter.id,
      ),
    ).toEqual(['run_b/1']);

    await repository.removeDeadLetters(['run_a/1', 'run_b/1']);
    expect(await repository.countIncrementalDeadLetters('dst_1', ['seg_a'])).toBe(0);
    expect((await repository.deadLetters('dst_1', 10)).map((l) => l.id).sort()).toEqual([
      'run_c/1',
      'run_full/1',
    ]);
  });

  it('reads the segment and kind of a dead letter stored before they were kept from its payload', async () => {
    const old = create(DeadLetterSchema, {
      id: 'run_old/1',
      destinationId: 'dst_old',
      runId: 'run_old',
      payload: JSON.stringify([{ eventId: 'run_old:p1', type: 'member', segmentId: 'seg_z' }]),
    });
    await db.collection('dead_letters').insertOne({
      _id: 'run_old/1' as never,
      destinationId: 'dst_old',
      atMs: 0,
      letter: toJson(DeadLetterSchema, old),
    });
    const [found] = await repository.deadLettersById('dst_old', ['run_old/1']);
    expect(found?.letter).toMatchObject({ segmentId: 'seg_z', runKind: SyncRunKind.FULL });
    expect(found?.positions).toEqual([]);
  });
});
