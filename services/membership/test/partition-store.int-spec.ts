import { SegmentState } from '@shoal/contracts';
import { TestScope } from '@shoal/testing';
import type { Db } from 'mongodb';
import { MongoPartitionStore } from '../src/partitions/partition-store.mongo-repository';
import { statusText } from '../src/partitions/status-publication';
import { checkpointOf, partitionStoreContract } from './support/partition-store.contract';

describe('the MongoDB partition store', () => {
  const scope = new TestScope();
  let databases = 0;
  afterAll(() => scope.close());

  async function database(): Promise<Db> {
    databases += 1;
    const client = await scope.mongo();
    return client.db(`t${scope.id}_store${databases}`);
  }

  partitionStoreContract(async () => new MongoPartitionStore(await database()));

  /** A catalogue summary the size of 2,000 segments'. */
  const applied = {
    versions: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`seg_${i}`, 1])),
    specs: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`count|E${i}|7d`, 0])),
    lists: [],
  };

  it('stores the parts that grow with the segments apart, once per content, and removes replaced ones', async () => {
    const db = await database();
    const store = new MongoPartitionStore(db);
    const parts = () => db.collection('partition_parts').find({ partition: 4 }).toArray();
    let document = { ...(await store.claim(4, 1_000)), applied, refreshedAt: { seg_1: 5 } };
    for (let changes = 0; changes < 5; changes += 1) {
      document = {
        ...document,
        offsets: { changes, lists: -1 },
        digests: { 'seg_1/0': { count: changes, xor: changes } },
      };
      expect(await store.writeCheckpoint(4, checkpointOf(document))).toBe(true);
    }
    // one document per part: the digests changed every time, each replaced one was removed
    const stored = await parts();
    expect(stored.map((doc) => String(doc._id).split('/')[2]?.split('.')[0]).sort()).toEqual([
      'applied',
      'digests',
      'refreshedAt',
    ]);
    const checkpoint = await db.collection('partitions').findOne({ _id: 4 as never });
    expect(String(checkpoint?.s).length).toBeLessThan(200);
    expect(String(checkpoint?.s)).not.toContain('seg_1999');
    // another instance (no memory of what was written) reads it all back
    const next = new MongoPartitionStore(db);
    const claimed = await next.claim(4, 2_000);
    expect(claimed.applied).toEqual(applied);
    expect(claimed.digests).toEqual({ 'seg_1/0': { count: 4, xor: 4 } });
    expect(claimed.offsets.changes).toBe(4);
    // and writes the same content under its own epoch, so an earlier owner's late removal of its
    // own parts can never take one the new owner's checkpoint names; the earlier parts go
    expect(await next.writeCheckpoint(4, checkpointOf(claimed))).toBe(true);
    const ids = (await parts()).map((doc) => String(doc._id));
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id.startsWith(`4/${claimed.epoch}/`)).toBe(true);
  });

  it('writes, of the digests, only the shards whose segments moved, and a shard emptied and filled again', async () => {
    const db = await database();
    const store = new MongoPartitionStore(db);
    const ids = async () =>
      new Set(
        (await db.collection('partition_parts').find({ partition: 6 }).toArray()).map((doc) =>
          String(doc._id),
        ),
      );
    const digests = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [`seg_${i}/3`, { count: 1, xor: i }]),
    );
    let document = { ...(await store.claim(6, 1_000)), applied, digests };
    expect(await store.writeCheckpoint(6, checkpointOf(document))).toBe(true);
    const before = await ids();
    expect([...before].filter((id) => id.includes('/digests.')).length).toBeGreaterThan(8);

    document = { ...document, digests: { ...digests, 'seg_5/3': { count: 2, xor: 99 } } };
    expect(await store.writeCheckpoint(6, checkpointOf(document))).toBe(true);
    const after = await ids();
    expect([...after].filter((id) => !before.has(id))).toHaveLength(1);
    expect([...before].filter((id) => !after.has(id))).toHaveLength(1);

    // one segment alone, then none, then the same one again: its shard comes back whole
    const one = { 'seg_5/3': { count: 2, xor: 99 } };
    for (const next of [one, {}, one]) {
      document = { ...document, digests: next };
      expect(await store.writeCheckpoint(6, checkpointOf(document))).toBe(true);
    }
    expect((await new MongoPartitionStore(db).claim(6, 2_000)).digests).toEqual(one);
  });

  it('claims a checkpoint written before its parts were split off', async () => {
    const db = await database();
    const rest = {
      offsets: { changes: 8, lists: 2 },
      outputOffset: 3,
      applied,
      digests: { 'seg_2/1': { count: 1, xor: 9 } },
      finishedJobs: { job: 7 },
      refreshedAt: { seg_2: 6 },
    };
    await db
      .collection('partitions')
      .insertOne({ _id: 1 as never, epoch: 3, createdAt: 100, s: JSON.stringify(rest) });
    const store = new MongoPartitionStore(db);
    const claimed = await store.claim(1, 1_000);
    expect(claimed).toEqual({ ...rest, partition: 1, epoch: 4, createdAt: 100 });
    // and its next checkpoint is in the new form, read back the same
    expect(await store.writeCheckpoint(1, checkpointOf(claimed))).toBe(true);
    expect(await new MongoPartitionStore(db).claim(1, 2_000)).toEqual({
      ...rest,
      partition: 1,
      epoch: 5,
      createdAt: 100,
    });
  });

  it('removes, when a partition is claimed, parts no checkpoint names', async () => {
    const db = await database();
    const store = new MongoPartitionStore(db);
    const document = await store.claim(2, 1_000);
    expect(await store.writeCheckpoint(2, checkpointOf({ ...document, applied }))).toBe(true);
    // an owner stopped between writing a part and the checkpoint naming it
    await db
      .collection('partition_parts')
      .insertOne({ _id: '2/digests/left-behind' as never, partition: 2, s: '{}' });
    await db
      .collection('partition_parts')
      .insertOne({ _id: '3/digests/other-partition' as never, partition: 3, s: '{}' });
    const claimed = await new MongoPartitionStore(db).claim(2, 2_000);
    expect(claimed.applied).toEqual(applied);
    const ids = (await db.collection('partition_parts').find({}).toArray()).map((d) => d._id);
    expect(ids).not.toContain('2/digests/left-behind');
    expect(ids).toContain('3/digests/other-partition');
    // the definitions and refresh instants (no member, so no digest shard)
    expect(ids.filter((id) => String(id).startsWith('2/'))).toHaveLength(2);
  });

  it('reads statuses back so that they compare equal to the ones built (absent fields too)', async () => {
    const store = new MongoPartitionStore(await database());
    const { epoch } = await store.claim(0, 1_000);
    const built = [
      {
        segmentId: 'seg_plain',
        partition: 0,
        partitionCount: 2,
        memberCount: 3,
        valueTrait: '',
        valuedMemberCount: 0,
        lastEvaluatedAt: undefined,
        lastRefreshedAt: undefined,
        lagMs: 4,
        reportedAt: 1_000,
        version: 2,
        state: SegmentState.READY,
        lastError: '',
        notes: [],
      },
      {
        segmentId: 'seg_valued',
        partition: 0,
        partitionCount: 2,
        memberCount: 1,
        valueTrait: 'ltv',
        valueSum: 12.5,
        valuedMemberCount: 1,
        lastEvaluatedAt: 900,
        lastRefreshedAt: 800,
        lagMs: 0,
        reportedAt: 1_000,
        version: 1,
        state: SegmentState.COMPUTING,
        lastError: '',
        notes: ['a note'],
      },
    ];
    await store.writeStatuses(0, epoch, built, []);
    const read = await store.readPartitionStatuses(0);
    const texts = (form: 'stored' | 'published', statuses: typeof read) =>
      statuses.map((status) => statusText(status, form)).sort();
    expect(texts('stored', read)).toEqual(texts('stored', built));
    expect(texts('published', read)).toEqual(texts('published', built));
  });

  it('refuses to start from a checkpoint whose part is missing', async () => {
    const db = await database();
    const store = new MongoPartitionStore(db);
    const document = await store.claim(5, 1_000);
    expect(await store.writeCheckpoint(5, checkpointOf({ ...document, applied }))).toBe(true);
    await db
      .collection('partition_parts')
      .deleteMany({ _id: { $regex: '^5/[0-9]+/applied/' } as never });
    await expect(new MongoPartitionStore(db).claim(5, 2_000)).rejects.toThrow(
      /partition 5: checkpoint part 5\/1\/applied\/.* is missing/,
    );
  });
});
