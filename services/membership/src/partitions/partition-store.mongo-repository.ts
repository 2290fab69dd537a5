import { Injectable } from '@nestjs/common';
import { MongoRepository } from '@shoal/platform';
import { type AnyBulkWriteOperation, Db, type Document } from 'mongodb';
import { MEMBER_BUCKETS } from '../evaluation/member-index';
import type { HistoryChunk, HistoryEvent, ProfileState } from '../evaluation/profile-state';
import { EMPTY_SUMMARY } from '../evaluation/segment-catalogue';
import type {
  CheckpointWrite,
  PartitionDocument,
  PartitionStatus,
  PartitionStore,
} from './partition-store.repository.port';

/** A partition's checkpoint document: owner epoch in the clear, the rest as one JSON string. */
interface PartitionDoc {
  _id: number;
  epoch: number;
  createdAt: number;
  /** JSON of the rest of PartitionDocument (spec keys are not valid field names). */
  s?: string;
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
 * Membership's collections: `partitions` (checkpoints), `states_p<n>` and `history_p<n>` (one
 * pair per partition, so loading a partition is one sequential read), `member_chunks` and
 * `segment_status` (the read model other instances answer queries from).
 */
@Injectable()
export class MongoPartitionStore extends MongoRepository<PartitionDoc> implements PartitionStore {
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
    const rest = doc.s === undefined ? {} : (JSON.parse(doc.s) as Partial<PartitionDocument>);
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
    const { partition: _p, epoch, createdAt: _c, ...rest } = document;
    const result = await this.collection.updateOne(
      { _id: partition, epoch },
      { $set: { s: JSON.stringify(rest) } },
    );
    return result.matchedCount === 1;
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
