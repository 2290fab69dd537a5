import { create, toJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { DeadLetterSchema, SyncRunKind } from '@shoal/contracts';
import { TestScope } from '@shoal/testing';
import type { Db } from 'mongodb';
import {
  DestinationMongoRepository,
  ErasureMongoRepository,
  LinkStateMongoRepository,
  SyncQueueMongoRepository,
  SyncRunMongoRepository,
} from '../src/destinations/destinations.mongo-repository';

describe('dead letters in the store', () => {
  const scope = new TestScope();
  let db: Db;
  let repository: SyncRunMongoRepository;

  beforeAll(async () => {
    db = (await scope.mongo()).db(`t${scope.id}_exporter`);
    repository = new SyncRunMongoRepository(db);
    await repository.ensureIndexes();
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

  it('sends dead letters stored before their segment, kind and positions were kept with the oldest incremental ones after an upgrade, and finds them by profile', async () => {
    const legacy = (id: string, at: string, profileId: string) =>
      create(DeadLetterSchema, {
        id,
        destinationId: 'dst_legacy',
        runId: id.split('/')[0],
        payload: JSON.stringify([
          { eventId: `t-${profileId}`, type: 'exited', segmentId: 'seg_l', profileId },
        ]),
        records: 1n,
        deadLetteredAt: timestampFromDate(new Date(at)),
      });
    for (const [id, at, profileId] of [
      ['run_l2/1', '2026-11-02T00:00:00Z', 'p-l2'],
      ['run_l1/1', '2026-11-01T00:00:00Z', 'p-l1'],
    ] as const)
      await db.collection('dead_letters').insertOne({
        _id: id as never,
        destinationId: 'dst_legacy',
        atMs: new Date(at).getTime(),
        letter: toJson(DeadLetterSchema, legacy(id, at, profileId)),
      });
    await repository.deadLetter(
      letter('run_new/1', '2026-12-01T00:00:00Z', {
        destinationId: 'dst_legacy',
        segmentId: 'seg_l',
      }),
      [{ partition: 0, offset: 1 }],
    );

    // what a restart of the upgraded exporter does before it serves
    await repository.ensureIndexes();
    const oldest = await repository.incrementalDeadLetters('dst_legacy', ['seg_l'], 10);
    expect(oldest.map((s) => [s.letter.id, s.letter.runKind, s.positions])).toEqual([
      ['run_l1/1', SyncRunKind.INCREMENTAL, []],
      ['run_l2/1', SyncRunKind.INCREMENTAL, []],
      ['run_new/1', SyncRunKind.INCREMENTAL, [{ partition: 0, offset: 1 }]],
    ]);
    expect(await repository.countIncrementalDeadLetters('dst_legacy', ['seg_l'])).toBe(3);
    expect((await repository.deadLettersOfProfiles(['p-l2'])).map((s) => s.letter.id)).toEqual([
      'run_l2/1',
    ]);
  });

  it('declares the indexes the exporter queries by', async () => {
    const repositories = [
      new DestinationMongoRepository(db),
      new SyncQueueMongoRepository(db),
      new LinkStateMongoRepository(db),
      new ErasureMongoRepository(db),
    ];
    for (const r of repositories) await r.ensureIndexes();
    const indexes = async (collection: string) =>
      Object.fromEntries(
        (await db.collection(collection).listIndexes().toArray())
          .filter((i) => i.name !== '_id_')
          .map((i) => [
            i.name,
            {
              key: i.key,
              ...(i.expireAfterSeconds !== undefined
                ? { expireAfterSeconds: i.expireAfterSeconds }
                : {}),
            },
          ]),
      );
    expect(await indexes('dead_letters')).toEqual({
      destination_newest: { key: { destinationId: 1, atMs: -1, _id: -1 } },
      destination_incremental_oldest: {
        key: { destinationId: 1, runKind: 1, segmentId: 1, atMs: 1, _id: 1 },
      },
      subjects: { key: { subjects: 1 } },
    });
    expect(await indexes('sync_runs')).toEqual({
      destination_newest: { key: { destinationId: 1, startedAtMs: -1, _id: -1 } },
    });
    expect(await indexes('sync_queue')).toEqual({
      link_queue_order: { key: { destinationId: 1, segmentId: 1, partition: 1, offset: 1 } },
    });
    expect(await indexes('destinations')).toEqual({
      owner_newest: { key: { owner: 1, createdAtMs: -1, _id: 1 } },
      newest: { key: { createdAtMs: -1, _id: 1 } },
    });
    expect(await indexes('link_states')).toEqual({ destination: { key: { destinationId: 1 } } });
    expect(await indexes('erasures')).toEqual({
      expiry: { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
    });
  });
});
