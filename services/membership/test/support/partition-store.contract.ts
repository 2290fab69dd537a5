import { SegmentState } from '@shoal/contracts';
import { newProfileState } from '../../src/evaluation/profile-state';
import type {
  CheckpointWrite,
  PartitionDocument,
  PartitionStore,
} from '../../src/partitions/partition-store.repository.port';

/** A checkpoint of `document` writing nothing else but what `extra` gives. */
export function checkpointOf(
  document: PartitionDocument,
  extra: Partial<CheckpointWrite> = {},
): CheckpointWrite {
  return {
    chunks: [],
    states: new Map(),
    deletedProfiles: [],
    droppedChunks: [],
    buckets: [],
    document,
    ...extra,
  };
}

/**
 * What every PartitionStore must do, run against the in-memory one (unit tests) and the MongoDB
 * one (integration tests), so the fake the unit tests use behaves as the real one does.
 */
export function partitionStoreContract(make: () => Promise<PartitionStore>): void {
  it('creates a partition document on first claim and moves the epoch on at every claim', async () => {
    const store = await make();
    const first = await store.claim(3, 1_000);
    expect(first).toMatchObject({ partition: 3, epoch: 1, createdAt: 1_000, outputOffset: 0 });
    expect(first.offsets).toEqual({ changes: -1, lists: -1 });
    expect((await store.claim(3, 2_000)).epoch).toBe(2);
  });

  it('writes a checkpoint and reads every part of it back', async () => {
    const store = await make();
    const document = await store.claim(0, 1_000);
    const state = newProfileState('user:a', 'c1');
    const chunk = {
      id: 'user:a|c1|0',
      profileId: 'user:a',
      incarnation: 'c1',
      n: 0,
      events: [{ n: 'Order', t: 5, p: { total: 3 } }],
    };
    const status = {
      segmentId: 'seg_x',
      partition: 0,
      partitionCount: 2,
      version: 4,
      state: SegmentState.READY,
      memberCount: 1,
      valueTrait: 'ltv',
      valueSum: 12.5,
      valuedMemberCount: 1,
      lastEvaluatedAt: 900,
      lagMs: 3,
      lastError: '',
      notes: ['a note'],
      reportedAt: 1_000,
    };
    const ok = await store.writeCheckpoint(
      0,
      checkpointOf(
        {
          ...document,
          offsets: { changes: 41, lists: 7 },
          outputOffset: 12,
          finishedJobs: { j: 1 },
        },
        {
          chunks: [chunk],
          states: new Map([['user:a', JSON.stringify(state)]]),
          buckets: [{ segmentId: 'seg_x', bucket: 5, members: ['user:a'] }],
        },
      ),
    );
    expect(ok).toBe(true);
    expect(await store.writeStatuses(0, document.epoch, [status], [])).toBe(true);
    expect(await store.findState(0, 'user:a')).toEqual(state);
    expect(await store.findState(1, 'user:a')).toBeUndefined();
    const loaded = [];
    for await (const s of store.loadStates(0)) loaded.push(s.id);
    expect(loaded).toEqual(['user:a']);
    expect(await store.findChunks(0, [chunk.id, 'missing'])).toEqual([chunk]);
    const streamed = [];
    for await (const c of store.streamChunks(0)) streamed.push(c.id);
    expect(streamed).toEqual([chunk.id]);
    expect(await store.readMembers('seg_x', 0)).toEqual(['user:a']);
    expect(await store.readStatuses('seg_x', [0, 1])).toEqual([status]);
    const claimed = await store.claim(0, 5_000);
    expect(claimed).toMatchObject({
      offsets: { changes: 41, lists: 7 },
      outputOffset: 12,
      finishedJobs: { j: 1 },
      createdAt: 1_000,
    });
  });

  it('reads back the applied definitions, refresh instants and digests of the last checkpoint', async () => {
    const store = await make();
    const document = await store.claim(2, 1_000);
    const first: PartitionDocument = {
      ...document,
      offsets: { changes: 5, lists: -1 },
      applied: { versions: { seg_a: 1, seg_b: 2 }, specs: { 'count|Order': 3 }, lists: ['lst_1'] },
      refreshedAt: { seg_a: 900 },
      digests: { 'seg_a/3': { count: 2, xor: 77 } },
    };
    expect(await store.writeCheckpoint(2, checkpointOf(first))).toBe(true);
    // the next checkpoints change one part at a time, the others handed over as they were
    const second = { ...first, offsets: { changes: 9, lists: -1 }, digests: {} };
    expect(await store.writeCheckpoint(2, checkpointOf(second))).toBe(true);
    const third = { ...second, offsets: { changes: 12, lists: -1 }, refreshedAt: { seg_a: 950 } };
    expect(await store.writeCheckpoint(2, checkpointOf(third))).toBe(true);
    const claimed = await store.claim(2, 2_000);
    expect(claimed).toMatchObject({
      offsets: { changes: 12, lists: -1 },
      applied: first.applied,
      refreshedAt: { seg_a: 950 },
      digests: {},
    });
    // a new owner's first checkpoint, with parts equal to the stored ones, reads back the same
    const fourth = { ...claimed, offsets: { changes: 13, lists: -1 } };
    expect(await store.writeCheckpoint(2, checkpointOf(fourth))).toBe(true);
    expect(await store.claim(2, 3_000)).toMatchObject({
      offsets: { changes: 13, lists: -1 },
      applied: first.applied,
      refreshedAt: { seg_a: 950 },
    });
  });

  it('deletes erased profiles, dropped chunks and emptied member chunks', async () => {
    const store = await make();
    const document = await store.claim(1, 1_000);
    const chunk = { id: 'user:b|c|0', profileId: 'user:b', incarnation: 'c', n: 0, events: [] };
    await store.writeCheckpoint(
      1,
      checkpointOf(document, {
        chunks: [chunk],
        states: new Map([['user:b', JSON.stringify(newProfileState('user:b', 'c'))]]),
        buckets: [{ segmentId: 'seg_y', bucket: 0, members: ['user:b'] }],
      }),
    );
    await store.writeCheckpoint(
      1,
      checkpointOf(document, {
        deletedProfiles: ['user:b'],
        droppedChunks: [chunk.id],
        buckets: [{ segmentId: 'seg_y', bucket: 0, members: [] }],
      }),
    );
    expect(await store.findState(1, 'user:b')).toBeUndefined();
    expect(await store.findChunks(1, [chunk.id])).toEqual([]);
    expect(await store.readMembers('seg_y', 1)).toEqual([]);
  });

  it('replaces a stored status, removes removed ones, and leaves other partitions alone', async () => {
    const store = await make();
    const { epoch } = await store.claim(1, 1_000);
    await store.claim(2, 1_000);
    const status = (segmentId: string, partition: number, memberCount: number) => ({
      segmentId,
      partition,
      partitionCount: 4,
      version: 1,
      state: SegmentState.READY,
      memberCount,
      valueTrait: '',
      valuedMemberCount: 0,
      lagMs: 0,
      lastError: '',
      notes: [],
      reportedAt: 1_000,
    });
    await store.writeStatuses(1, epoch, [status('seg_a', 1, 3), status('seg_b', 1, 4)], []);
    await store.writeStatuses(2, 1, [status('seg_a', 2, 5)], []);

    expect(await store.writeStatuses(1, epoch, [status('seg_a', 1, 7)], ['seg_b'])).toBe(true);

    expect(await store.readStatuses('seg_a', [1, 2])).toEqual([
      status('seg_a', 1, 7),
      status('seg_a', 2, 5),
    ]);
    expect(await store.readStatuses('seg_b', [1])).toEqual([]);
    expect(await store.readPartitionStatuses(1)).toEqual([status('seg_a', 1, 7)]);
    expect(await store.readPartitionStatuses(2)).toEqual([status('seg_a', 2, 5)]);
    expect(await store.readPartitionStatuses(3)).toEqual([]);
  });

  it('refuses statuses of an older epoch once a newer owner claimed the partition', async () => {
    const store = await make();
    const old = await store.claim(3, 1_000);
    await store.claim(3, 2_000);
    const status = {
      segmentId: 'seg_z',
      partition: 3,
      partitionCount: 4,
      version: 1,
      state: SegmentState.READY,
      memberCount: 1,
      valueTrait: '',
      valuedMemberCount: 0,
      lagMs: 0,
      lastError: '',
      notes: [],
      reportedAt: 1_000,
    };

    expect(await store.writeStatuses(3, old.epoch, [status], [])).toBe(false);

    expect(await store.readStatuses('seg_z', [3])).toEqual([]);
  });

  it('refuses a checkpoint of an older epoch once a newer owner claimed the partition', async () => {
    const store = await make();
    const old = await store.claim(2, 1_000);
    await store.claim(2, 2_000);
    const ok = await store.writeCheckpoint(
      2,
      checkpointOf(old, {
        states: new Map([['user:z', JSON.stringify(newProfileState('user:z', 'c'))]]),
      }),
    );
    expect(ok).toBe(false);
    expect(await store.findState(2, 'user:z')).toBeUndefined();
  });
}
