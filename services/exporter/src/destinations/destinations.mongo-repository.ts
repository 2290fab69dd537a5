import { createHash } from 'node:crypto';
import { type JsonValue, fromJson, toJson } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import {
  type DeadLetter,
  DeadLetterSchema,
  type Destination,
  DestinationSchema,
  type SyncRun,
  SyncRunKind,
  SyncRunSchema,
  profileChangesTopic,
} from '@shoal/contracts';
import { MongoRepository } from '@shoal/platform';
import { Db, type IndexDescription } from 'mongodb';
import { payloadRecords, subjectsOf } from './dead-letter-payload';
import type {
  DestinationRepositoryPort,
  ErasureRepositoryPort,
  LinkState,
  LinkStateRepositoryPort,
  QueuePosition,
  RefreshJobRepositoryPort,
  QueuedRecord,
  StoredDeadLetter,
  SyncQueuePort,
  SyncRunRepositoryPort,
} from './destinations.repository.port';

interface DestinationDocument {
  _id: string;
  owner: string;
  version: number;
  createdAtMs: number;
  destination: JsonValue;
}

/** The `destinations` collection: one document per destination, its protobuf JSON inside. */
@Injectable()
export class DestinationMongoRepository
  extends MongoRepository<DestinationDocument>
  implements DestinationRepositoryPort
{
  constructor(db: Db) {
    super(db, 'destinations', [
      { key: { owner: 1, createdAtMs: -1, _id: 1 }, name: 'owner_newest' },
      { key: { createdAtMs: -1, _id: 1 }, name: 'newest' },
    ]);
  }

  async insert(destination: Destination): Promise<void> {
    await this.collection.insertOne(documentOf(destination));
  }

  async get(id: string): Promise<Destination | undefined> {
    const found = await this.collection.findOne({ _id: id });
    return found ? fromJson(DestinationSchema, found.destination) : undefined;
  }

  async list(owner: string | undefined, limit: number): Promise<Destination[]> {
    const found = await this.collection
      .find(owner === undefined ? {} : { owner })
      .sort({ createdAtMs: -1, _id: 1 })
      .limit(limit)
      .toArray();
    return found.map((d) => fromJson(DestinationSchema, d.destination));
  }

  async replace(destination: Destination, expectedVersion: bigint): Promise<boolean> {
    const result = await this.collection.replaceOne(
      { _id: destination.id, version: Number(expectedVersion) },
      documentOf(destination),
    );
    return result.matchedCount === 1;
  }

  async remove(id: string): Promise<void> {
    await this.collection.deleteOne({ _id: id });
  }
}

function documentOf(destination: Destination): DestinationDocument {
  return {
    _id: destination.id,
    owner: destination.owner,
    version: Number(destination.version),
    createdAtMs: destination.createdAt ? timestampDate(destination.createdAt).getTime() : 0,
    destination: toJson(DestinationSchema, destination),
  };
}

type QueueDocument = Omit<QueuedRecord, 'id'> & { _id: string };

/** The `sync_queue` collection: records waiting for their destination; deleted once delivered. */
@Injectable()
export class SyncQueueMongoRepository
  extends MongoRepository<QueueDocument>
  implements SyncQueuePort
{
  constructor(db: Db) {
    super(db, 'sync_queue', [
      {
        key: { destinationId: 1, segmentId: 1, partition: 1, offset: 1 },
        name: 'link_queue_order',
      },
    ]);
  }

  async enqueue(records: readonly QueuedRecord[]): Promise<QueuedRecord[]> {
    if (records.length === 0) return [];
    const result = await this.collection.bulkWrite(
      records.map(({ id, ...rest }) => ({
        updateOne: { filter: { _id: id }, update: { $setOnInsert: rest }, upsert: true },
      })),
      { ordered: false },
    );
    // upserts are the records that were not queued before
    return Object.keys(result.upsertedIds).map((index) => records[Number(index)] as QueuedRecord);
  }

  async pending(destinationId: string, segmentId: string, limit: number) {
    const found = await this.collection
      .find({ destinationId, segmentId })
      .sort({ partition: 1, offset: 1 })
      .limit(limit)
      .toArray();
    return found.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.collection.bulkWrite(
      ids.map((id) => ({ deleteOne: { filter: { _id: id } } })),
      { ordered: false },
    );
  }

  async clear(destinationId: string, segmentId?: string): Promise<void> {
    await this.collection.deleteMany(segmentId ? { destinationId, segmentId } : { destinationId });
  }
}

interface RunDocument {
  _id: string;
  destinationId: string;
  startedAtMs: number;
  run: JsonValue;
}

interface DeadLetterDocument {
  _id: string;
  destinationId: string;
  /** Absent in dead letters stored before redelivery existed (read from the payload then). */
  segmentId?: string;
  runKind?: SyncRunKind;
  atMs: number;
  letter: JsonValue;
  positions?: QueuePosition[];
  /** The profiles it holds records of (absent in dead letters stored before erasure reached them). */
  subjects?: string[];
  /** How often erased profiles' records were taken out of it. */
  revision?: number;
}

/**
 * What the dead-letter queries need: a destination's newest (ListDeadLetters), its oldest
 * incremental ones of some segments (RedeliverDeadLetters without ids), and those holding a
 * profile's records (erasure).
 */
export const DEAD_LETTER_INDEXES: readonly IndexDescription[] = [
  { key: { destinationId: 1, atMs: -1, _id: -1 }, name: 'destination_newest' },
  {
    key: { destinationId: 1, runKind: 1, segmentId: 1, atMs: 1, _id: 1 },
    name: 'destination_incremental_oldest',
  },
  { key: { subjects: 1 }, name: 'subjects' },
];

/** The `sync_runs` and `dead_letters` collections. */
@Injectable()
export class SyncRunMongoRepository
  extends MongoRepository<RunDocument>
  implements SyncRunRepositoryPort
{
  private readonly letters;

  constructor(db: Db) {
    super(db, 'sync_runs', [
      { key: { destinationId: 1, startedAtMs: -1, _id: -1 }, name: 'destination_newest' },
    ]);
    this.letters = this.collectionOf<DeadLetterDocument>('dead_letters');
  }

  /**
   * Besides the indexes, brings dead letters stored by earlier versions up to what the queries
   * read: their segment and kind (from the payload) and the profiles they hold. Idempotent.
   */
  override async ensureIndexes(): Promise<void> {
    await super.ensureIndexes();
    await this.letters.createIndexes([...DEAD_LETTER_INDEXES]);
    for await (const document of this.letters.find({ subjects: { $exists: false } })) {
      const { letter } = storedOf(document);
      await this.letters.updateOne(
        { _id: document._id },
        {
          $set: {
            segmentId: letter.segmentId,
            runKind: letter.runKind,
            subjects: subjectsOf(letter.payload),
          },
        },
      );
    }
  }

  async save(run: SyncRun): Promise<void> {
    await this.collection.replaceOne(
      { _id: run.id },
      {
        destinationId: run.destinationId,
        startedAtMs: run.startedAt ? timestampDate(run.startedAt).getTime() : 0,
        run: toJson(SyncRunSchema, run),
      },
      { upsert: true },
    );
  }

  async runs(destinationId: string, limit: number): Promise<SyncRun[]> {
    const found = await this.collection
      .find({ destinationId })
      .sort({ startedAtMs: -1, _id: -1 })
      .limit(limit)
      .toArray();
    return found.map((d) => fromJson(SyncRunSchema, d.run));
  }

  async deadLetter(letter: DeadLetter, positions: readonly QueuePosition[] = []): Promise<void> {
    await this.letters.replaceOne(
      { _id: letter.id },
      {
        destinationId: letter.destinationId,
        segmentId: letter.segmentId,
        runKind: letter.runKind,
        atMs: letter.deadLetteredAt ? timestampDate(letter.deadLetteredAt).getTime() : 0,
        letter: toJson(DeadLetterSchema, letter),
        positions: positions.map(({ partition, offset }) => ({ partition, offset })),
        subjects: subjectsOf(letter.payload),
        revision: 0,
      },
      { upsert: true },
    );
  }

  async deadLetters(destinationId: string, limit: number): Promise<DeadLetter[]> {
    const found = await this.letters
      .find({ destinationId })
      .sort({ atMs: -1, _id: -1 })
      .limit(limit)
      .toArray();
    return found.map((d) => storedOf(d).letter);
  }

  async deadLettersById(destinationId: string, ids: readonly string[]) {
    // point reads by _id: the embedded store scans once per id of an $in
    const found = await Promise.all(ids.map((_id) => this.letters.findOne({ _id, destinationId })));
    return found.flatMap((d) => (d ? [storedOf(d)] : []));
  }

  async incrementalDeadLetters(
    destinationId: string,
    segmentIds: readonly string[],
    limit: number,
  ): Promise<StoredDeadLetter[]> {
    if (segmentIds.length === 0 || limit <= 0) return [];
    const found = await this.letters
      .find(incrementalOf(destinationId, segmentIds))
      .sort({ atMs: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return found.map(storedOf);
  }

  async countIncrementalDeadLetters(destinationId: string, segmentIds: readonly string[]) {
    if (segmentIds.length === 0) return 0;
    return this.letters.countDocuments(incrementalOf(destinationId, segmentIds));
  }

  async removeDeadLetters(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.letters.bulkWrite(
      ids.map((_id) => ({ deleteOne: { filter: { _id } } })),
      { ordered: false },
    );
  }

  async deadLettersOfProfiles(profileIds: readonly string[]): Promise<StoredDeadLetter[]> {
    if (profileIds.length === 0) return [];
    const found = await this.letters.find({ subjects: { $in: [...profileIds] } }).toArray();
    return found.map(storedOf);
  }

  async rewriteDeadLetter({ letter, positions, revision = 0 }: StoredDeadLetter) {
    const result = await this.letters.updateOne(
      { _id: letter.id, revision },
      {
        $set: {
          letter: toJson(DeadLetterSchema, letter),
          positions: positions.map(({ partition, offset }) => ({ partition, offset })),
          subjects: subjectsOf(letter.payload),
          revision: revision + 1,
        },
      },
    );
    return result.matchedCount === 1;
  }
}

const incrementalOf = (destinationId: string, segmentIds: readonly string[]) => ({
  destinationId,
  segmentId: { $in: [...segmentIds] },
  runKind: SyncRunKind.INCREMENTAL,
});

/** A stored dead letter; one from before segment and kind were kept gets them from its payload. */
function storedOf(document: DeadLetterDocument): StoredDeadLetter {
  const letter = fromJson(DeadLetterSchema, document.letter);
  if (!letter.segmentId || letter.runKind === SyncRunKind.UNSPECIFIED) {
    const [first] = (payloadRecords(letter.payload) ?? []) as {
      segmentId?: string;
      type?: string;
    }[];
    letter.segmentId ||= first?.segmentId ?? '';
    if (letter.runKind === SyncRunKind.UNSPECIFIED)
      letter.runKind = first?.type === 'member' ? SyncRunKind.FULL : SyncRunKind.INCREMENTAL;
  }
  return { letter, positions: document.positions ?? [], revision: document.revision ?? 0 };
}

interface RefreshJobDocument {
  _id: string;
  segmentId: string;
  partitions: number[];
  partitionCount: number;
  completed: boolean;
}

/** The `refresh_jobs` collection: finished partitions of the refresh jobs seen. */
@Injectable()
export class RefreshJobMongoRepository
  extends MongoRepository<RefreshJobDocument>
  implements RefreshJobRepositoryPort
{
  constructor(db: Db) {
    super(db, 'refresh_jobs');
  }

  async partitionSucceeded({
    jobId,
    segmentId,
    partition,
    partitionCount,
  }: {
    jobId: string;
    segmentId: string;
    partition: number;
    partitionCount: number;
  }): Promise<boolean> {
    await this.collection.updateOne(
      { _id: jobId },
      {
        $addToSet: { partitions: partition },
        $setOnInsert: { segmentId, partitionCount, completed: false },
      },
      { upsert: true },
    );
    const job = await this.collection.findOne({ _id: jobId });
    if (!job || job.completed || job.partitions.length < job.partitionCount) return false;
    // whoever flips `completed` is the one that saw the job complete
    const flipped = await this.collection.updateOne(
      { _id: jobId, completed: false },
      { $set: { completed: true } },
    );
    return flipped.modifiedCount === 1;
  }
}

interface LinkStateDocument {
  _id: string;
  destinationId: string;
  segmentId: string;
  lastSyncedAtMs?: number;
  lastSyncedEventId?: string;
  lastSyncedSequence?: number;
  recordsSynced?: number;
  pausedBacklog?: number;
  fullSyncRequired?: boolean;
  lastScheduledAtMs?: number;
}

/** The `link_states` collection: one document per (destination, segment), keyed by both. */
@Injectable()
export class LinkStateMongoRepository
  extends MongoRepository<LinkStateDocument>
  implements LinkStateRepositoryPort
{
  constructor(db: Db) {
    super(db, 'link_states', [{ key: { destinationId: 1 }, name: 'destination' }]);
  }

  async get(destinationId: string, segmentId: string): Promise<LinkState | undefined> {
    const found = await this.collection.findOne({ _id: keyOf(destinationId, segmentId) });
    if (!found) return undefined;
    return {
      destinationId,
      segmentId,
      ...(found.lastSyncedAtMs !== undefined
        ? { lastSyncedAt: new Date(found.lastSyncedAtMs) }
        : {}),
      lastSyncedEventId: found.lastSyncedEventId ?? '',
      lastSyncedSequence: found.lastSyncedSequence ?? 0,
      recordsSynced: found.recordsSynced ?? 0,
      pausedBacklog: found.pausedBacklog ?? 0,
      fullSyncRequired: found.fullSyncRequired ?? false,
      ...(found.lastScheduledAtMs !== undefined
        ? { lastScheduledAt: new Date(found.lastScheduledAtMs) }
        : {}),
    };
  }

  async delivered(
    destinationId: string,
    segmentId: string,
    last: { at: Date; eventId: string; sequence?: number; records: number },
  ): Promise<void> {
    await this.upsert(destinationId, segmentId, {
      $set: {
        lastSyncedAtMs: last.at.getTime(),
        lastSyncedEventId: last.eventId,
        ...(last.sequence !== undefined ? { lastSyncedSequence: last.sequence } : {}),
      },
      $inc: { recordsSynced: last.records },
    });
  }

  async addBacklog(destinationId: string, segmentId: string, records: number): Promise<number> {
    await this.upsert(destinationId, segmentId, { $inc: { pausedBacklog: records } });
    return (await this.get(destinationId, segmentId))?.pausedBacklog ?? records;
  }

  async setFullSyncRequired(
    destinationId: string,
    segmentId: string,
    required: boolean,
  ): Promise<void> {
    await this.upsert(destinationId, segmentId, {
      $set: { fullSyncRequired: required, ...(required ? { pausedBacklog: 0 } : {}) },
    });
  }

  async resumed(destinationId: string, segmentId: string): Promise<void> {
    await this.upsert(destinationId, segmentId, { $set: { pausedBacklog: 0 } });
  }

  async claimScheduled(destinationId: string, segmentId: string, at: Date): Promise<boolean> {
    const _id = keyOf(destinationId, segmentId);
    await this.upsert(destinationId, segmentId, {});
    const claimed = await this.collection.updateOne(
      {
        _id,
        $or: [
          { lastScheduledAtMs: { $exists: false } },
          { lastScheduledAtMs: { $lt: at.getTime() } },
        ],
      },
      { $set: { lastScheduledAtMs: at.getTime() } },
    );
    return claimed.modifiedCount === 1;
  }

  async remove(destinationId: string, segmentId?: string): Promise<void> {
    if (segmentId) await this.collection.deleteOne({ _id: keyOf(destinationId, segmentId) });
    else await this.collection.deleteMany({ destinationId });
  }

  async forgetProfiles(profileIds: readonly string[]): Promise<void> {
    if (profileIds.length === 0) return;
    // a full sync's record ids are "<run id>:<profile id>"; run ids hold no colon
    const names = profileIds.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    await this.collection.updateMany(
      { lastSyncedEventId: { $regex: `^run_[^:]*:(?:${names})$` } },
      { $set: { lastSyncedEventId: '' } },
    );
  }

  private async upsert(
    destinationId: string,
    segmentId: string,
    update: {
      $set?: Partial<LinkStateDocument>;
      $inc?: Partial<Record<'recordsSynced' | 'pausedBacklog', number>>;
    },
  ): Promise<void> {
    await this.collection.updateOne(
      { _id: keyOf(destinationId, segmentId) },
      { ...update, $setOnInsert: { destinationId, segmentId } } as never,
      { upsert: true },
    );
  }
}

const keyOf = (destinationId: string, segmentId: string) => `${destinationId}/${segmentId}`;

interface ErasureDocument {
  /** SHA-256 of the profile id: the erasure is known, the id not kept. */
  _id: string;
  erasedAtMs: number;
  expiresAt: Date;
}

/**
 * The `erasures` collection: profiles erased within the retention of the topic erasures come by
 * (shoal.profiles.changes), after which they expire — no erasure older can be read again.
 */
@Injectable()
export class ErasureMongoRepository
  extends MongoRepository<ErasureDocument>
  implements ErasureRepositoryPort
{
  constructor(db: Db) {
    super(db, 'erasures', [{ key: { expiresAt: 1 }, name: 'expiry', expireAfterSeconds: 0 }]);
  }

  async record(profileIds: readonly string[], at: Date): Promise<void> {
    if (profileIds.length === 0) return;
    await this.collection.bulkWrite(
      profileIds.map((id) => ({
        updateOne: {
          filter: { _id: hashOf(id) },
          update: {
            $max: {
              erasedAtMs: at.getTime(),
              expiresAt: new Date(at.getTime() + profileChangesTopic.retentionMs),
            },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  async erasedAt(profileIds: readonly string[]): Promise<Map<string, Date>> {
    const erased = new Map<string, Date>();
    // point reads by _id: the embedded store scans once per id of an $in
    for (let start = 0; start < profileIds.length; start += ERASURE_READS_IN_FLIGHT) {
      const ids = profileIds.slice(start, start + ERASURE_READS_IN_FLIGHT);
      const found = await Promise.all(
        ids.map((id) => this.collection.findOne({ _id: hashOf(id) })),
      );
      found.forEach((document, i) => {
        if (document) erased.set(ids[i] as string, new Date(document.erasedAtMs));
      });
    }
    return erased;
  }
}

const ERASURE_READS_IN_FLIGHT = 64;
const hashOf = (profileId: string) => createHash('sha256').update(profileId).digest('hex');
