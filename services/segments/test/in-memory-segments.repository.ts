import { clone, toBinary } from '@bufbuild/protobuf';
import {
  type Segment,
  type SegmentChange,
  SegmentChangeSchema,
  SegmentKind,
  SegmentSchema,
  SegmentSort,
  Visibility,
} from '@shoal/contracts';
import { publicationOf } from '../src/segments/publication';
import { type SegmentEvaluation, withEvaluation } from '../src/segments/segment-evaluation';
import { nameKey } from '../src/segments/segment-validation';
import type {
  ListCountSeq,
  ListPosition,
  ListedSegment,
  PendingChange,
  PendingSegment,
  PublishFailure,
  ReplaceOutcome,
  SegmentListCriteria,
  SegmentRepositoryPort,
  StoredSegment,
} from '../src/segments/segments.repository.port';

interface Entry {
  readonly stored: StoredSegment;
  readonly pending: readonly PendingChange[];
  readonly failure?: PublishFailure | undefined;
  readonly evaluation?: SegmentEvaluation;
  /** A static list's member count, as of its change `seq`. */
  readonly listCount?: { readonly count: number; readonly seq: number };
}

/**
 * The segment store in memory, with what the MongoDB repository guarantees (the contract suite
 * in segments-repository.contract.ts holds both to it): names unique per owner among live
 * segments, compare-and-set on the version, an outbox per segment. What it returns is a copy,
 * so a caller changing it changes nothing stored.
 */
export class InMemorySegmentRepository implements SegmentRepositoryPort {
  private readonly entries = new Map<string, Entry>();
  private readonly versions = new Map<string, PendingChange>();

  /** Stores a segment as it is, with nothing pending (data written under earlier rules). */
  seed(stored: StoredSegment): void {
    this.entries.set(stored.segment.id, { stored: copyOf(stored), pending: [] });
  }

  async insert(stored: StoredSegment, pending: PendingChange): Promise<boolean> {
    if (this.entries.has(stored.segment.id) || this.nameTaken(stored)) return false;
    this.entries.set(stored.segment.id, {
      stored: copyOf(stored),
      pending: [copyOfChange(pending)],
    });
    return true;
  }

  async findById(id: string): Promise<StoredSegment | undefined> {
    const entry = this.entries.get(id);
    return entry ? readOf(entry) : undefined;
  }

  async findByIds(ids: readonly string[]): Promise<Map<string, StoredSegment>> {
    const found = new Map<string, StoredSegment>();
    for (const id of ids) {
      const stored = await this.findById(id);
      if (stored) found.set(id, stored);
    }
    return found;
  }

  async replace(
    expectedVersion: number,
    stored: StoredSegment,
    pending: PendingChange,
  ): Promise<ReplaceOutcome> {
    const entry = this.entries.get(stored.segment.id);
    if (!entry || Number(entry.stored.segment.version) !== expectedVersion) return 'conflict';
    if (this.nameTaken(stored)) return 'name-taken';
    this.entries.set(stored.segment.id, {
      ...entry,
      stored: copyOf(stored),
      pending: [...entry.pending, copyOfChange(pending)],
    });
    return 'ok';
  }

  async countOwned(owner: string): Promise<number> {
    return this.live().filter((s) => s.segment.owner === owner).length;
  }

  async findReferencing(id: string): Promise<StoredSegment[]> {
    return [...this.entries.values()]
      .filter((e) => !e.stored.deleted && e.stored.references.includes(id))
      .map(readOf);
  }

  async list(criteria: SegmentListCriteria): Promise<ListedSegment[]> {
    const sortValue = SORT_VALUES[criteria.sort] ?? SORT_VALUES[SegmentSort.UPDATED_AT]!;
    const direction = criteria.descending ? -1 : 1;
    const positioned = [...this.entries.values()]
      .filter((e) => !e.stored.deleted && matches(e.stored.segment, criteria))
      .map((e) => ({ entry: e, position: positionOf(shown(e), sortValue) }));
    return positioned
      .filter(({ position }) => !criteria.after || isAfter(position, criteria.after, direction))
      .sort((a, b) => compare(a.position, b.position, direction))
      .slice(0, criteria.limit)
      .map(({ entry, position }) => ({
        segment: clone(SegmentSchema, shown(entry)),
        position,
        publication: publicationOfEntry(entry),
      }));
  }

  async saveVersion(change: PendingChange): Promise<void> {
    this.versions.set(versionKey(change.snapshot.id, change.version), copyOfChange(change));
  }

  async findVersion(segmentId: string, version: number) {
    const found = this.versions.get(versionKey(segmentId, version));
    return found
      ? {
          snapshot: clone(SegmentSchema, found.snapshot),
          change: clone(SegmentChangeSchema, found.change),
        }
      : undefined;
  }

  async listChanges(
    segmentId: string,
    currentVersion: number,
    beforeVersion: number,
    limit: number,
  ): Promise<SegmentChange[]> {
    return [...this.versions.values()]
      .filter(
        (v) =>
          v.snapshot.id === segmentId && v.version <= currentVersion && v.version < beforeVersion,
      )
      .sort((a, b) => b.version - a.version)
      .slice(0, limit)
      .map((v) => clone(SegmentChangeSchema, v.change));
  }

  async withPendingChanges({
    maxSegments,
    maxBytes,
  }: {
    maxSegments: number;
    maxBytes: number;
  }): Promise<PendingSegment[]> {
    const found: PendingSegment[] = [];
    let bytes = 0;
    for (const { stored, pending } of this.entries.values()) {
      if (pending.length === 0) continue;
      bytes += [stored.segment, ...pending.map((p) => p.snapshot)].reduce(
        (sum, s) => sum + toBinary(SegmentSchema, s).length,
        0,
      );
      if (found.length > 0 && bytes > maxBytes) break;
      found.push({
        id: stored.segment.id,
        version: Number(stored.segment.version),
        deleted: stored.deleted,
        current: clone(SegmentSchema, stored.segment),
        pending: pending.map(copyOfChange),
      });
      if (found.length >= maxSegments) break;
    }
    return found;
  }

  async clearPending(id: string, upToVersion: number): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    const pending = entry.pending.filter((p) => p.version > upToVersion);
    this.entries.set(id, { stored: entry.stored, pending });
  }

  async markPublishFailed(id: string, failure: PublishFailure): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    const pending = entry.pending.filter((p) => p.version > failure.version);
    this.entries.set(id, { stored: entry.stored, pending, failure: { ...failure } });
  }

  async saveEvaluations(evaluations: ReadonlyMap<string, SegmentEvaluation>): Promise<void> {
    for (const [id, evaluation] of evaluations) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      const segment = clone(SegmentSchema, entry.stored.segment);
      segment.memberCount = BigInt(evaluation.memberCount);
      this.entries.set(id, {
        ...entry,
        stored: { ...entry.stored, segment },
        evaluation: { ...evaluation },
      });
    }
  }

  async saveListMemberCount(id: string, count: number, seq: number): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || (entry.listCount && entry.listCount.seq >= seq)) return;
    this.entries.set(id, { ...entry, listCount: { count, seq } });
  }

  async listCountSeqs(afterId: string, limit: number): Promise<ListCountSeq[]> {
    return [...this.entries.values()]
      .filter(
        ({ stored }) =>
          !stored.deleted &&
          stored.segment.kind === SegmentKind.STATIC_LIST &&
          stored.segment.id > afterId,
      )
      .map(({ stored, listCount }) => ({ id: stored.segment.id, seq: listCount?.seq }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async purge(id: string): Promise<void> {
    for (const [key, change] of this.versions)
      if (change.snapshot.id === id) this.versions.delete(key);
    if (this.entries.get(id)?.stored.deleted) this.entries.delete(id);
  }

  private live(): StoredSegment[] {
    return [...this.entries.values()].map((e) => e.stored).filter((s) => !s.deleted);
  }

  private nameTaken(candidate: StoredSegment): boolean {
    if (candidate.deleted) return false;
    const key = nameKey(candidate.segment.name);
    return this.live().some(
      (s) =>
        s.segment.id !== candidate.segment.id &&
        s.segment.owner === candidate.segment.owner &&
        nameKey(s.segment.name) === key,
    );
  }
}

const SORT_VALUES: Partial<Record<SegmentSort, (s: Segment) => string | number>> = {
  [SegmentSort.NAME]: (s) => nameKey(s.name),
  [SegmentSort.CREATED_AT]: (s) => millis(s.createdAt),
  [SegmentSort.UPDATED_AT]: (s) => millis(s.updatedAt),
  [SegmentSort.MEMBER_COUNT]: (s) => Number(s.memberCount),
};

function millis(t: Segment['createdAt']): number {
  return t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : 0;
}

function positionOf(segment: Segment, value: (s: Segment) => string | number): ListPosition {
  return { value: value(segment), id: segment.id };
}

function compare(a: ListPosition, b: ListPosition, direction: number): number {
  if (a.value !== b.value) return (a.value < b.value ? -1 : 1) * direction;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function isAfter(position: ListPosition, after: ListPosition, direction: number): boolean {
  return compare(position, after, direction) > 0;
}

function matches(segment: Segment, c: SegmentListCriteria): boolean {
  const oneOf = <T>(values: readonly T[], value: T) =>
    values.length === 0 || values.includes(value);
  const text = [segment.name, segment.description, ...segment.tags].join('\n').toLowerCase();
  return (
    (!c.viewer || seenBy(segment, c.viewer)) &&
    oneOf(c.kinds, segment.kind) &&
    oneOf(c.refreshModes, segment.refresh?.mode) &&
    oneOf(c.statuses, segment.status) &&
    oneOf(c.visibilities, segment.visibility) &&
    oneOf(c.owners, segment.owner) &&
    c.tags.every((t) => segment.tags.includes(t)) &&
    text.includes(c.search.trim().toLowerCase())
  );
}

function seenBy(segment: Segment, viewer: { subject: string; groups: readonly string[] }) {
  if (segment.owner === viewer.subject) return true;
  const hidden = segment.hiddenFrom;
  return (
    segment.visibility === Visibility.SHARED &&
    !hidden?.subjects.includes(viewer.subject) &&
    !viewer.groups.some((g) => hidden?.groups.includes(g))
  );
}

function readOf(entry: Entry): StoredSegment {
  const stored = copyOf(entry.stored);
  return { ...stored, segment: shown(entry), publication: publicationOfEntry(entry) };
}

/** The segment with membership's figures, as reads show it. */
function shown(entry: Entry): Segment {
  const segment = clone(SegmentSchema, entry.stored.segment);
  if (segment.kind === SegmentKind.STATIC_LIST)
    segment.memberCount = BigInt(entry.listCount?.count ?? 0);
  return withEvaluation(segment, entry.evaluation);
}

function publicationOfEntry(entry: Entry) {
  return publicationOf({ pending: entry.pending.length, failure: entry.failure });
}

function copyOf(stored: StoredSegment): StoredSegment {
  return {
    segment: clone(SegmentSchema, stored.segment),
    references: [...stored.references],
    destinations: stored.destinations.map((d) => ({ ...d })),
    deleted: stored.deleted,
  };
}

function copyOfChange(change: PendingChange): PendingChange {
  return {
    version: change.version,
    snapshot: clone(SegmentSchema, change.snapshot),
    change: clone(SegmentChangeSchema, change.change),
  };
}

const versionKey = (segmentId: string, version: number) => `${segmentId}:${version}`;
