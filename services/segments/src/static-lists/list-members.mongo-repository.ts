import { Injectable } from '@nestjs/common';
import { MongoRepository, isDuplicateKey } from '@shoal/platform';
import { type AnyBulkWriteOperation, type Collection, Db } from 'mongodb';
import type { ChunkRef } from './member-chunks';
import type {
  CommittedState,
  KeyedIds,
  ListChange,
  ListHead,
  ListMemberRepositoryPort,
  ListVersion,
  ListWriter,
} from './list-members.repository.port';

interface ListHeadDocument {
  _id: string;
  epoch: number;
  seq: number;
  count: number;
  chunks: ChunkRef[];
  garbage: string[];
  writer?: ListWriter;
  outbox: ListChange[];
}

interface IdsDocument {
  _id: string;
  listId: string;
  ids: string[];
}

/** Chunk and part documents are small enough to write a few dozen per round trip. */
const WRITE_BATCH = 25;

const docId = (listId: string, key: string) => `${listId}/${key}`;

@Injectable()
export class MongoListMemberRepository
  extends MongoRepository<ListHeadDocument>
  implements ListMemberRepositoryPort
{
  private readonly chunkDocs: Collection<IdsDocument>;
  private readonly partDocs: Collection<IdsDocument>;

  constructor(db: Db) {
    super(db, 'list_heads', [
      // the relay's query for lists with unpublished changes
      { key: { 'outbox.seq': 1 }, name: 'unpublished', sparse: true },
    ]);
    this.chunkDocs = this.collectionOf<IdsDocument>('list_chunks');
    this.partDocs = this.collectionOf<IdsDocument>('list_changes');
  }

  async head(listId: string): Promise<ListHead | undefined> {
    const doc = await this.collection.findOne({ _id: listId });
    if (!doc) return undefined;
    const { _id, ...head } = doc;
    return { listId: _id, ...head };
  }

  async chunks(listId: string, keys: readonly string[]): Promise<Map<string, readonly string[]>> {
    return this.readIds(this.chunkDocs, listId, keys);
  }

  async claim(listId: string, seen: ListVersion, writer: ListWriter): Promise<boolean> {
    try {
      const result = await this.collection.updateOne(
        { _id: listId, epoch: seen.epoch, seq: seen.seq },
        {
          $set: { epoch: writer.epoch, writer },
          $setOnInsert: { count: 0, chunks: [], garbage: [], outbox: [] },
        },
        { upsert: true },
      );
      return result.matchedCount + result.upsertedCount === 1;
    } catch (error) {
      // the head exists and moved on: someone else claimed or committed first
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async hold(listId: string, epoch: number, untilMs: number): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: listId, 'writer.epoch': epoch },
      { $set: { 'writer.untilMs': untilMs } },
    );
    return result.matchedCount === 1;
  }

  async commit(
    listId: string,
    epoch: number,
    state: CommittedState,
    change: ListChange,
  ): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: listId, 'writer.epoch': epoch },
      {
        $set: {
          seq: state.seq,
          count: state.count,
          chunks: [...state.chunks],
          garbage: [...state.garbage],
        },
        $unset: { writer: '' },
        $push: { outbox: change },
      },
    );
    return result.matchedCount === 1;
  }

  async writeChunks(listId: string, chunks: readonly KeyedIds[]): Promise<void> {
    await this.writeIds(this.chunkDocs, listId, chunks);
  }

  async deleteChunks(listId: string, keys: readonly string[]): Promise<void> {
    await this.deleteIds(this.chunkDocs, listId, keys);
  }

  async writeParts(listId: string, parts: readonly KeyedIds[]): Promise<void> {
    await this.writeIds(this.partDocs, listId, parts);
  }

  async deleteParts(listId: string, keys: readonly string[]): Promise<void> {
    await this.deleteIds(this.partDocs, listId, keys);
  }

  async part(listId: string, key: string): Promise<readonly string[] | undefined> {
    return (await this.partDocs.findOne({ _id: docId(listId, key) }))?.ids;
  }

  async unpublished(limit: number): Promise<{ listId: string; change: ListChange }[]> {
    const docs = await this.collection
      .find({ 'outbox.0': { $exists: true } })
      .project<Pick<ListHeadDocument, '_id' | 'outbox'>>({ outbox: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({
      listId: doc._id,
      change: doc.outbox.reduce((oldest, c) => (c.seq < oldest.seq ? c : oldest)),
    }));
  }

  async sent(listId: string, seq: number, sent: number): Promise<void> {
    await this.collection.updateOne(
      { _id: listId, 'outbox.seq': seq },
      { $set: { 'outbox.$.sent': sent } },
    );
  }

  async published(listId: string, seq: number): Promise<void> {
    await this.collection.updateOne({ _id: listId }, { $pull: { outbox: { seq } } });
  }

  private async readIds(
    collection: Collection<IdsDocument>,
    listId: string,
    keys: readonly string[],
  ): Promise<Map<string, readonly string[]>> {
    // parallel point reads: constant time each on every store (an $in scans on the embedded one)
    const docs = await Promise.all(
      keys.map((key) =>
        collection.findOne({ _id: docId(listId, key) }, { projection: { ids: 1 } }),
      ),
    );
    const found = new Map<string, readonly string[]>();
    docs.forEach((doc, i) => {
      if (doc) found.set(keys[i] as string, doc.ids);
    });
    return found;
  }

  private async writeIds(
    collection: Collection<IdsDocument>,
    listId: string,
    entries: readonly KeyedIds[],
  ): Promise<void> {
    for (let i = 0; i < entries.length; i += WRITE_BATCH) {
      const operations: AnyBulkWriteOperation<IdsDocument>[] = entries
        .slice(i, i + WRITE_BATCH)
        .map(({ key, ids }) => ({
          replaceOne: {
            filter: { _id: docId(listId, key) },
            replacement: { listId, ids: [...ids] },
            upsert: true,
          },
        }));
      await collection.bulkWrite(operations, { ordered: false });
    }
  }

  private async deleteIds(
    collection: Collection<IdsDocument>,
    listId: string,
    keys: readonly string[],
  ): Promise<void> {
    for (let i = 0; i < keys.length; i += WRITE_BATCH) {
      const operations: AnyBulkWriteOperation<IdsDocument>[] = keys
        .slice(i, i + WRITE_BATCH)
        .map((key) => ({ deleteOne: { filter: { _id: docId(listId, key) } } }));
      await collection.bulkWrite(operations, { ordered: false });
    }
  }
}
