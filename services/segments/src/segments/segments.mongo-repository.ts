import {
  type DescEnum,
  type JsonObject,
  type JsonValue,
  fromJson,
  toJson,
} from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import {
  RefreshModeSchema,
  type Segment,
  SegmentChangeSchema,
  SegmentKind,
  SegmentKindSchema,
  SegmentSchema,
  SegmentSort,
  SegmentStateSchema,
  SegmentStatusSchema,
  VisibilitySchema,
} from '@shoal/contracts';
import { MongoRepository, isDuplicateKey } from '@shoal/platform';
import { BSON, Db, type Filter, type Sort } from 'mongodb';
import { publicationOf } from './publication';
import { type SegmentEvaluation, withEvaluation } from './segment-evaluation';
import { nameKey } from './segment-validation';
import type {
  DestinationUse,
  ListCountSeq,
  ListedSegment,
  PendingChange,
  PendingSegment,
  PublishFailure,
  ReplaceOutcome,
  SegmentListCriteria,
  SegmentRepositoryPort,
  StoredSegment,
} from './segments.repository.port';

export interface SegmentDocument {
  _id: string;
  definition: JsonObject;
  owner: string;
  /** Unique: owner + case-insensitive name; a deleted segment frees its name. */
  ownerName: string;
  nameSort: string;
  kind: string;
  status: string;
  visibility: string;
  refreshMode: string;
  tags: string[];
  hiddenSubjects: string[];
  hiddenGroups: string[];
  searchText: string;
  references: string[];
  destinations: DestinationUse[];
  memberCount: number;
  createdAtMs: number;
  updatedAtMs: number;
  version: number;
  deleted: boolean;
  pendingChanges: { version: number; snapshot: JsonObject; change: JsonObject }[];
  publishFailure?: PublishFailure;
  /** The static-list change whose count memberCount is (lists only). */
  listSeq?: number;
  /** Membership's figures (the state as its proto name); memberCount above follows them. */
  evaluation?: Omit<SegmentEvaluation, 'state'> & { state: string };
}

interface SegmentVersionDocument {
  _id: string;
  segmentId: string;
  version: number;
  definition: JsonObject;
  change: JsonObject;
}

const json = (segment: Segment) => toJson(SegmentSchema, segment) as JsonObject;

type SortField = 'nameSort' | 'createdAtMs' | 'updatedAtMs' | 'memberCount';

const SORT_FIELDS: Partial<Record<SegmentSort, SortField>> = {
  [SegmentSort.NAME]: 'nameSort',
  [SegmentSort.CREATED_AT]: 'createdAtMs',
  [SegmentSort.UPDATED_AT]: 'updatedAtMs',
  [SegmentSort.MEMBER_COUNT]: 'memberCount',
};

function toDocument(stored: StoredSegment): Omit<SegmentDocument, 'pendingChanges'> {
  const { segment } = stored;
  const millis = (t: Segment['createdAt']) =>
    t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : 0;
  // enum fields as their proto names, as in the JSON form (one serialisation for all of them)
  const names = toJson(SegmentSchema, segment, { alwaysEmitImplicit: true }) as {
    kind: string;
    status: string;
    visibility: string;
    refresh?: { mode?: string };
  };
  return {
    _id: segment.id,
    definition: json(segment),
    owner: segment.owner,
    ownerName: stored.deleted
      ? `\u0000deleted\u0000${segment.id}`
      : `${segment.owner}\u0000${nameKey(segment.name)}`,
    nameSort: nameKey(segment.name),
    kind: names.kind,
    status: names.status,
    visibility: names.visibility,
    refreshMode: names.refresh?.mode ?? '',
    tags: [...segment.tags],
    hiddenSubjects: [...(segment.hiddenFrom?.subjects ?? [])],
    hiddenGroups: [...(segment.hiddenFrom?.groups ?? [])],
    searchText: [segment.name, segment.description, ...segment.tags].join('\n').toLowerCase(),
    references: [...stored.references],
    destinations: stored.destinations.map((d) => ({ ...d })),
    memberCount: Number(segment.memberCount),
    createdAtMs: millis(segment.createdAt),
    updatedAtMs: millis(segment.updatedAt),
    version: Number(segment.version),
    deleted: stored.deleted,
  };
}

function listFilters(c: SegmentListCriteria): Filter<SegmentDocument>[] {
  const filters: Filter<SegmentDocument>[] = [];
  if (c.viewer) {
    const { subject, groups } = c.viewer;
    filters.push({
      $or: [
        { owner: subject },
        {
          visibility: 'VISIBILITY_SHARED',
          hiddenSubjects: { $ne: subject },
          ...(groups.length > 0 ? { hiddenGroups: { $nin: [...groups] } } : {}),
        },
      ],
    });
  }
  const oneOf = (field: keyof SegmentDocument, values: readonly string[]) => {
    if (values.length > 0)
      filters.push({ [field]: { $in: [...values] } } as Filter<SegmentDocument>);
  };
  oneOf('kind', enumNames(SegmentKindSchema, c.kinds));
  oneOf('refreshMode', enumNames(RefreshModeSchema, c.refreshModes));
  oneOf('status', enumNames(SegmentStatusSchema, c.statuses));
  oneOf('visibility', enumNames(VisibilitySchema, c.visibilities));
  oneOf('owner', c.owners);
  if (c.tags.length > 0) filters.push({ tags: { $all: [...c.tags] } });
  const search = c.search.trim().toLowerCase();
  if (search)
    filters.push({ searchText: { $regex: search.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') } });
  return filters;
}

/** Enum values as stored: their proto names, as in the JSON form (unknown numbers match nothing). */
function enumNames(schema: DescEnum, values: readonly number[]): string[] {
  return values.map((n) => schema.values.find((v) => v.number === n)?.name ?? String(n));
}

function segmentOf(doc: SegmentDocument): Segment {
  const segment = fromJson(SegmentSchema, doc.definition);
  // a list's count is its own (saveListMemberCount), never in its definition
  if (segment.kind === SegmentKind.STATIC_LIST) segment.memberCount = BigInt(doc.memberCount ?? 0);
  const evaluation = doc.evaluation;
  if (!evaluation) return segment;
  const state = SegmentStateSchema.values.find((v) => v.name === evaluation.state)?.number ?? 0;
  return withEvaluation(segment, { ...evaluation, state });
}

function fromDocument(doc: SegmentDocument): StoredSegment {
  return {
    segment: segmentOf(doc),
    references: doc.references ?? [],
    destinations: doc.destinations ?? [],
    deleted: doc.deleted,
    publication: publicationOf(outboxOf(doc)),
  };
}

function outboxOf(doc: SegmentDocument) {
  return { pending: doc.pendingChanges?.length ?? 0, failure: doc.publishFailure };
}

function pendingJson(pending: PendingChange) {
  return {
    version: pending.version,
    snapshot: json(pending.snapshot),
    change: toJson(SegmentChangeSchema, pending.change) as JsonObject,
  };
}

const versionId = (segmentId: string, version: number) =>
  `${segmentId}:${String(version).padStart(10, '0')}`;

@Injectable()
export class MongoSegmentRepository
  extends MongoRepository<SegmentDocument>
  implements SegmentRepositoryPort
{
  private readonly versions;

  constructor(db: Db) {
    super(db, 'segments', [
      { key: { ownerName: 1 }, name: 'owner_name_unique', unique: true },
      { key: { references: 1 }, name: 'references' },
      { key: { owner: 1, updatedAtMs: -1 }, name: 'owner_updated' },
      { key: { visibility: 1, updatedAtMs: -1 }, name: 'visibility_updated' },
      { key: { 'pendingChanges.version': 1 }, name: 'pending_changes', sparse: true },
    ]);
    this.versions = this.collectionOf<SegmentVersionDocument>('segment_versions');
  }

  override async ensureIndexes(): Promise<void> {
    await super.ensureIndexes();
    await this.versions.createIndexes([
      { key: { segmentId: 1, version: -1 }, name: 'segment_version' },
    ]);
  }

  async insert(stored: StoredSegment, pending: PendingChange): Promise<boolean> {
    try {
      await this.collection.insertOne({
        ...toDocument(stored),
        pendingChanges: [pendingJson(pending)],
      });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async findById(id: string): Promise<StoredSegment | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? fromDocument(doc) : undefined;
  }

  async findByIds(ids: readonly string[]): Promise<Map<string, StoredSegment>> {
    // parallel point reads by _id: constant time each, unlike $in on the embedded store
    const found = await Promise.all([...new Set(ids)].map((id) => this.findById(id)));
    return new Map(found.filter((s): s is StoredSegment => !!s).map((s) => [s.segment.id, s]));
  }

  async replace(
    expectedVersion: number,
    stored: StoredSegment,
    pending: PendingChange,
  ): Promise<ReplaceOutcome> {
    // the member count is membership's (saveEvaluations): a concurrent report must not be undone
    const { _id, memberCount: _count, ...fields } = toDocument(stored);
    try {
      const result = await this.collection.updateOne(
        { _id, version: expectedVersion },
        { $set: fields, $push: { pendingChanges: pendingJson(pending) } },
      );
      return result.matchedCount === 1 ? 'ok' : 'conflict';
    } catch (error) {
      if (isDuplicateKey(error)) return 'name-taken';
      throw error;
    }
  }

  countOwned(owner: string): Promise<number> {
    return this.collection.countDocuments({ owner, deleted: false });
  }

  async findReferencing(id: string): Promise<StoredSegment[]> {
    const docs = await this.collection.find({ references: id, deleted: false }).toArray();
    return docs.map(fromDocument);
  }

  async list(criteria: SegmentListCriteria): Promise<ListedSegment[]> {
    const field: SortField = SORT_FIELDS[criteria.sort] ?? 'updatedAtMs';
    const and: Filter<SegmentDocument>[] = [{ deleted: false }, ...listFilters(criteria)];
    const after = criteria.after;
    if (after) {
      and.push({
        $or: [
          { [field]: { [criteria.descending ? '$lt' : '$gt']: after.value } },
          { [field]: after.value, _id: { $gt: after.id } },
        ],
      } as Filter<SegmentDocument>);
    }
    const sort: Sort = { [field]: criteria.descending ? -1 : 1, _id: 1 };
    const docs = await this.collection
      .find({ $and: and })
      .sort(sort)
      .limit(criteria.limit)
      .toArray();
    return docs.map((doc) => ({
      segment: segmentOf(doc),
      position: { value: doc[field], id: doc._id },
      publication: publicationOf(outboxOf(doc)),
    }));
  }

  async saveVersion(pending: PendingChange): Promise<void> {
    const { snapshot } = pending;
    await this.versions.replaceOne(
      { _id: versionId(snapshot.id, pending.version) },
      {
        segmentId: snapshot.id,
        version: pending.version,
        definition: json(snapshot),
        change: toJson(SegmentChangeSchema, pending.change) as JsonObject,
      },
      { upsert: true },
    );
  }

  async findVersion(segmentId: string, version: number) {
    const doc = await this.versions.findOne({ _id: versionId(segmentId, version) });
    if (!doc) return undefined;
    return {
      snapshot: fromJson(SegmentSchema, doc.definition),
      change: fromJson(SegmentChangeSchema, doc.change as JsonValue),
    };
  }

  async listChanges(
    segmentId: string,
    currentVersion: number,
    beforeVersion: number,
    limit: number,
  ) {
    const docs = await this.versions
      .find({ segmentId, version: { $lte: currentVersion, $lt: beforeVersion } })
      .sort({ version: -1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => fromJson(SegmentChangeSchema, doc.change as JsonValue));
  }

  async withPendingChanges({ maxSegments, maxBytes }: { maxSegments: number; maxBytes: number }) {
    const found: PendingSegment[] = [];
    let bytes = 0;
    const cursor = this.collection
      .find({ 'pendingChanges.0': { $exists: true } })
      .batchSize(Math.min(maxSegments, 16));
    try {
      for await (const doc of cursor) {
        bytes += BSON.calculateObjectSize(doc);
        if (found.length > 0 && bytes > maxBytes) break;
        found.push({
          id: doc._id,
          version: doc.version,
          deleted: doc.deleted,
          current: fromJson(SegmentSchema, doc.definition),
          pending: doc.pendingChanges.map((p) => ({
            version: p.version,
            snapshot: fromJson(SegmentSchema, p.snapshot),
            change: fromJson(SegmentChangeSchema, p.change as JsonValue),
          })),
        });
        if (found.length >= maxSegments) break;
      }
    } finally {
      await cursor.close();
    }
    return found;
  }

  async clearPending(id: string, upToVersion: number): Promise<void> {
    await this.collection.updateOne(
      { _id: id },
      {
        $pull: { pendingChanges: { version: { $lte: upToVersion } } },
        $unset: { publishFailure: '' },
      },
    );
  }

  async markPublishFailed(id: string, failure: PublishFailure): Promise<void> {
    await this.collection.updateOne(
      { _id: id },
      {
        $pull: { pendingChanges: { version: { $lte: failure.version } } },
        $set: { publishFailure: { ...failure } },
      },
    );
  }

  /** One bulk write for all of them. */
  async saveEvaluations(evaluations: ReadonlyMap<string, SegmentEvaluation>): Promise<void> {
    if (evaluations.size === 0) return;
    await this.collection.bulkWrite(
      [...evaluations].map(([id, evaluation]) => {
        const state = SegmentStateSchema.values.find((v) => v.number === evaluation.state)?.name;
        return {
          updateOne: {
            filter: { _id: id },
            update: {
              $set: {
                evaluation: { ...evaluation, state: state ?? String(evaluation.state) },
                memberCount: evaluation.memberCount,
              },
            },
          },
        };
      }),
      { ordered: false },
    );
  }

  async saveListMemberCount(id: string, count: number, seq: number): Promise<void> {
    await this.collection.updateOne(
      { _id: id, $or: [{ listSeq: { $exists: false } }, { listSeq: { $lt: seq } }] },
      { $set: { memberCount: count, listSeq: seq } },
    );
  }

  async listCountSeqs(afterId: string, limit: number): Promise<ListCountSeq[]> {
    // paged by _id: the embedded store plans only _id (INFRA.md)
    const docs = await this.collection
      .find(
        {
          _id: { $gt: afterId },
          kind: { $in: enumNames(SegmentKindSchema, [SegmentKind.STATIC_LIST]) },
          deleted: false,
        },
        { projection: { _id: 1, listSeq: 1 } },
      )
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((doc) => ({ id: doc._id, seq: doc.listSeq }));
  }

  async purge(id: string): Promise<void> {
    await this.versions.deleteMany({ segmentId: id });
    await this.collection.deleteOne({ _id: id, deleted: true });
  }
}
