import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { MongoRepository } from '@shoal/platform';
import { type AnyBulkWriteOperation, Db, type Document } from 'mongodb';
import { type BucketDigest, hash32, MEMBER_BUCKETS } from '../evaluation/member-index';
import type { HistoryChunk, HistoryEvent, ProfileState } from '../evaluation/profile-state';
import { EMPTY_SUMMARY } from '../evaluation/segment-catalogue';
import type {
  CheckpointWrite,
  PartitionDocument,
  PartitionStatus,
  PartitionStore,
} from './partition-store.repository.port';

/**
 * The parts of a checkpoint that grow with the segments (a version, a spec key, a refresh
 * instant, up to 16 member-chunk digests per segment): each is stored in a document of its own,
 * named by its content, and written only when it changed — with 10,000 segments they are ~1 MB
 * that every checkpoint carried while only the catalogue or a refresh changes them. The digests,
 * which move with the members, are split by segment into DIGEST_SHARDS parts (`digests.<n>`, the
 * empty ones left out): a checkpoint writes only the shards of segments whose members moved, and
 * no one document holds them all.
 */
type PartName = 'applied' | 'refreshedAt' | `digests.${number}`;
const DIGEST_SHARDS = 16;

/** A partition's checkpoint document: owner epoch in the clear, the rest as one JSON string. */
interface PartitionDoc {
  _id: number;
  epoch: number;
  createdAt: number;
  /**
   * JSON of the rest of PartitionDocument (spec keys are not valid field names); without the
   * parts when `parts` is there (documents written before parts were split off have them here).
   */
  s?: string;
  /** The `_id` in `partition_parts` of each part this checkpoint holds. */
  parts?: Partial<Record<PartName, string>>;
}

/**
 * One part of one partition's checkpoint, `<partition>/<owner epoch>/<part>/<digest of s>`; never
 * changed. The epoch keeps owners apart: a part an earlier owner removes late (its removal held up
 * in the store) is never one a later owner wrote, even for the same content.
 */
interface PartDoc {
  _id: string;
  partition: number;
  s: string;
}

/** What this instance last wrote of a part: the object, its JSON and the document holding it. */
interface WrittenPart {
  readonly value: unknown;
  readonly json: string;
  readonly id: string;
}

/** Per owned partition: the parts written, those the stored checkpoint names, and garbage. */
interface PartsOfPartition {
  readonly written: Map<PartName, WrittenPart>;
  committed: ReadonlySet<string>;
  /** Parts no checkpoint names any more whose removal has not succeeded yet. */
  garbage: Set<string>;
}

/** Bodies of states, chunks and member chunks are stored as one JSON string each: the embedded
 * store handles one string field several times faster than the same data as nested fields. */
interface BlobDoc {
  _id: string;
  s: string;
}

interface ChunkDoc extends BlobDoc {
  profileId: string;
  incarnation: string;
  n: number;
}

type StatusDoc = Omit<PartitionStatus, 'notes'> & { _id: string; notes: string[] };

const BULK = 500;

/**
 * Membership's collections: `partitions` (checkpoints) and `partition_parts` (their parts that
 * grow with the segments), `states_p<n>` and `history_p<n>` (one pair per partition, so loading a
 * partition is one sequential read), `member_chunks` and `segment_status` (the read model other
 * instances answer queries from).
 */
@Injectable()
export class MongoPartitionStore extends MongoRepository<PartitionDoc> implements PartitionStore {
  private readonly parts = new Map<number, PartsOfPartition>();

  constructor(db: Db) {
    super(db, 'partitions');
  }

  async claim(partition: number, now: number): Promise<PartitionDocument> {
    const doc = await this.collection.findOneAndUpdate(
      { _id: partition },
      { $inc: { epoch: 1 }, $setOnInsert: { createdAt: now } },
      { upsert: true, returnDocument: 'after' },
    );
    if (doc === null) throw new Error(`claiming partition ${partition} returned nothing`);
    const rest = {
      ...(doc.s === undefined ? {} : (JSON.parse(doc.s) as Partial<PartitionDocument>)),
      ...(await this.readParts(partition, doc.parts)),
    };
    return {
      offsets: { changes: -1, lists: -1 },
      outputOffset: 0,
      applied: EMPTY_SUMMARY,
      digests: {},
      finishedJobs: {},
      refreshedAt: {},
      ...rest,
      partition,
      epoch: doc.epoch,
      createdAt: doc.createdAt,
    };
  }

  async *loadStates(partition: number): AsyncIterable<ProfileState> {
    for await (const doc of this.states(partition).find({}))
      yield JSON.parse(doc.s) as ProfileState;
  }

  async findState(partition: number, profileId: string): Promise<ProfileState | undefined> {
    const doc = await this.states(partition).findOne({ _id: profileId });
    return doc === null ? undefined : (JSON.parse(doc.s) as ProfileState);
  }

  async *streamChunks(partition: number): AsyncIterable<HistoryChunk> {
    for await (const doc of this.history(partition).find({})) yield toChunk(doc);
  }

  async findChunks(partition: number, ids: readonly string[]): Promise<HistoryChunk[]> {
    const docs = await Promise.all(ids.map((_id) => this.history(partition).findOne({ _id })));
    return docs.flatMap((doc) => (doc === null ? [] : [toChunk(doc)]));
  }

  async writeCheckpoint(partition: number, write: CheckpointWrite): Promise<boolean> {
    const { document } = write;
    const current = await this.collection.findOne({ _id: partition }, { projection: { epoch: 1 } });
    if (current?.epoch !== document.epoch) return false;
    await bulk(
      this.history(partition),
      write.chunks.map((chunk) => ({
        replaceOne: {
          filter: { _id: chunk.id },
          replacement: {
            profileId: chunk.profileId,
            incarnation: chunk.incarnation,
            n: chunk.n,
            s: JSON.stringify(chunk.events),
          },
          upsert: true,
        },
      })),
    );
    await bulk(this.states(partition), [
      ...[...write.states].map(([_id, s]) => ({
        replaceOne: { filter: { _id }, replacement: { s }, upsert: true },
      })),
      ...write.deletedProfiles.map((_id) => ({ deleteOne: { filter: { _id } } })),
    ]);
    await bulk(
      this.history(partition),
      write.droppedChunks.map((_id) => ({ deleteOne: { filter: { _id } } })),
    );
    await bulk(
      this.memberChunks(),
      write.buckets.map(({ segmentId, bucket, members }) => {
        const _id = memberChunkId(segmentId, partition, bucket);
        return members.length === 0
          ? { deleteOne: { filter: { _id } } }
          : {
              replaceOne: {
                filter: { _id },
                replacement: { s: JSON.stringify(members) },
                upsert: true,
              },
            };
      }),
    );
    const parts = await this.writeParts(partition, document);
    const {
      partition: _p,
      epoch,
      createdAt: _c,
      applied: _a,
      refreshedAt: _r,
      digests: _d,
      ...rest
    } = document;
    const result = await this.collection.updateOne(
      { _id: partition, epoch },
      { $set: { s: JSON.stringify(rest), parts } },
    );
    if (result.matchedCount !== 1) return false;
    await this.partsCommitted(partition, parts);
    return true;
  }

  async writeStatuses(
    partition: number,
    epoch: number,
    statuses: readonly PartitionStatus[],
    removed: readonly string[],
  ): Promise<boolean> {
    const current = await this.collection.findOne({ _id: partition }, { projection: { epoch: 1 } });
    if (current?.epoch !== epoch) return false;
    const operations: AnyBulkWriteOperation<StatusDoc>[] = [
      ...statuses.map((status) => {
        const _id = statusId(status.segmentId, partition);
        return {
          replaceOne: {
            filter: { _id },
            replacement: { ...status, notes: [...status.notes] },
            upsert: true,
          },
        };
      }),
      ...removed.map((segmentId) => ({
        deleteOne: { filter: { _id: statusId(segmentId, partition) } },
      })),
    ];
    // in slices, like the checkpoint's writes: one command of thousands of statuses (a first
    // start) holds the embedded store for seconds, and the checkpoints' writes queue behind it
    await bulk(this.statuses(), operations);
    return true;
  }

  async readMembers(segmentId: string, partition: number): Promise<string[]> {
    const docs = await Promise.all(
      Array.from({ length: MEMBER_BUCKETS }, (_, bucket) =>
        this.memberChunks().findOne({ _id: memberChunkId(segmentId, partition, bucket) }),
      ),
    );
    return docs.flatMap((doc) => (doc === null ? [] : (JSON.parse(doc.s) as string[]))).sort();
  }

  async readStatuses(segmentId: string, partitions: readonly number[]): Promise<PartitionStatus[]> {
    const docs = await Promise.all(
      partitions.map((partition) =>
        this.statuses().findOne({ _id: statusId(segmentId, partition) }),
      ),
    );
    return docs.flatMap((doc) => {
      if (doc === null) return [];
      const { _id, ...status } = doc;
      return [status];
    });
  }

  async readPartitionStatuses(partition: number): Promise<PartitionStatus[]> {
    const docs = await this.statuses().find({ partition }).toArray();
    return docs.map(({ _id, ...status }) => status);
  }

  /** The checkpoints' collection's indexes, and the statuses' by partition (a new owner reads them). */
  override async ensureIndexes(): Promise<void> {
    await super.ensureIndexes();
    await this.statuses().createIndex({ partition: 1 });
  }

  /**
   * The parts a claimed checkpoint names, read back; parts no checkpoint names (left by an owner
   * stopped between writing a part and its checkpoint) are removed.
   */
  private async readParts(
    partition: number,
    names: Partial<Record<PartName, string>> | undefined,
  ): Promise<Partial<PartitionDocument>> {
    const named = Object.entries(names ?? {}) as [PartName, string][];
    const ids = named.map(([, id]) => id);
    this.parts.set(partition, { written: new Map(), committed: new Set(ids), garbage: new Set() });
    await this.partDocs().deleteMany({ partition, _id: { $nin: ids } });
    if (names === undefined) return {};
    const docs = await this.partDocs()
      .find({ _id: { $in: ids } })
      .toArray();
    const byId = new Map(docs.map((doc) => [doc._id, doc.s]));
    const out: Record<string, unknown> = { digests: {} };
    for (const [part, id] of named) {
      const json = byId.get(id);
      // a checkpoint is written only after its parts, and a part only removed once no
      // checkpoint names it: a missing one is damage to the store, not a state to start from
      if (json === undefined)
        throw new Error(`partition ${partition}: checkpoint part ${id} is missing`);
      // (`digests` whole: the form of the first checkpoints with parts)
      if (part.startsWith('digests')) Object.assign(out.digests as object, JSON.parse(json));
      else out[part] = JSON.parse(json);
    }
    return out as Partial<PartitionDocument>;
  }

  /** Writes the parts that changed since this instance last wrote them; their ids. */
  private async writeParts(
    partition: number,
    document: PartitionDocument,
  ): Promise<Partial<Record<PartName, string>>> {
    let state = this.parts.get(partition);
    if (state === undefined) {
      state = { written: new Map(), committed: new Set(), garbage: new Set() };
      this.parts.set(partition, state);
    }
    const ids: Partial<Record<PartName, string>> = {};
    for (const [part, value] of partsOf(document)) {
      const last = state.written.get(part);
      // the working set hands over the same object until it changes: most checkpoints end here
      if (last !== undefined && last.value === value) {
        ids[part] = last.id;
        continue;
      }
      const json = JSON.stringify(value);
      if (last?.json === json) {
        state.written.set(part, { ...last, value });
        ids[part] = last.id;
        continue;
      }
      const digest = createHash('sha256').update(json).digest('base64url');
      const id = `${partition}/${document.epoch}/${part}/${digest}`;
      await this.partDocs().replaceOne({ _id: id }, { partition, s: json }, { upsert: true });
      state.written.set(part, { value, json, id });
      ids[part] = id;
    }
    // a digest shard that emptied is left out, and its document removed once this is committed:
    // the same content later is written again, not taken for the removed document
    for (const part of state.written.keys())
      if (ids[part] === undefined) state.written.delete(part);
    return ids;
  }

  /** After a checkpoint naming `parts`: the parts only earlier checkpoints named are removed. */
  private async partsCommitted(
    partition: number,
    parts: Partial<Record<PartName, string>>,
  ): Promise<void> {
    const state = this.parts.get(partition);
    if (state === undefined) return;
    const current = new Set(Object.values(parts).filter((id) => id !== undefined));
    for (const id of state.committed) if (!current.has(id)) state.garbage.add(id);
    for (const id of current) state.garbage.delete(id);
    state.committed = current;
    if (state.garbage.size === 0) return;
    const garbage = [...state.garbage];
    try {
      await this.partDocs().deleteMany({ _id: { $in: garbage } });
      for (const id of garbage) state.garbage.delete(id);
    } catch {
      // the checkpoint is durable: an unremoved part is only garbage, removed after the next
      // checkpoint (or when the partition is next claimed)
    }
  }

  private partDocs() {
    return this.collectionOf<PartDoc>('partition_parts');
  }

  private states(partition: number) {
    return this.collectionOf<BlobDoc>(`states_p${partition}`);
  }

  private history(partition: number) {
    return this.collectionOf<ChunkDoc>(`history_p${partition}`);
  }

  private memberChunks() {
    return this.collectionOf<BlobDoc>('member_chunks');
  }

  private statuses() {
    return this.collectionOf<StatusDoc>('segment_status');
  }
}

/** A checkpoint's parts: its definitions, its refresh instants and its non-empty digest shards. */
function partsOf(document: PartitionDocument): [PartName, unknown][] {
  const shards: Record<string, BucketDigest>[] = Array.from({ length: DIGEST_SHARDS }, () => ({}));
  for (const [key, digest] of Object.entries(document.digests)) {
    const segmentId = key.slice(0, key.lastIndexOf('/'));
    (shards[hash32(segmentId) % DIGEST_SHARDS] as Record<string, BucketDigest>)[key] = digest;
  }
  return [
    ['applied', document.applied],
    ['refreshedAt', document.refreshedAt],
    ...shards.flatMap((shard, n): [PartName, unknown][] =>
      Object.keys(shard).length === 0 ? [] : [[`digests.${n}`, shard]],
    ),
  ];
}

function toChunk(doc: ChunkDoc): HistoryChunk {
  return {
    id: doc._id,
    profileId: doc.profileId,
    incarnation: doc.incarnation,
    n: doc.n,
    events: JSON.parse(doc.s) as HistoryEvent[],
  };
}

function memberChunkId(segmentId: string, partition: number, bucket: number): string {
  return `${segmentId}|${partition}|${bucket}`;
}

function statusId(segmentId: string, partition: number): string {
  return `${segmentId}|${partition}`;
}

/** Unordered bulk writes of at most BULK operations each (the store's sweet spot). */
async function bulk<T extends Document>(
  collection: {
    bulkWrite(ops: AnyBulkWriteOperation<T>[], options: { ordered: boolean }): Promise<unknown>;
  },
  operations: AnyBulkWriteOperation<T>[],
): Promise<void> {
  for (let start = 0; start < operations.length; start += BULK) {
    await collection.bulkWrite(operations.slice(start, start + BULK), { ordered: false });
  }
}
