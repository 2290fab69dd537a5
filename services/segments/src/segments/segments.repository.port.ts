import type {
  Publication,
  RefreshMode,
  Segment,
  SegmentChange,
  SegmentKind,
  SegmentSort,
  SegmentStatus,
  Visibility,
} from '@shoal/contracts';
import type { SegmentEvaluation } from './segment-evaluation';

/** A destination (from the exporter) that uses a segment. */
export interface DestinationUse {
  readonly id: string;
  readonly name: string;
  readonly autoSync: boolean;
}

/** A segment as stored: its definition plus what the service keeps beside it. */
export interface StoredSegment {
  readonly segment: Segment;
  /** Segment and list ids its rule reads. */
  readonly references: readonly string[];
  readonly destinations: readonly DestinationUse[];
  readonly deleted: boolean;
  /** Where publishing its definition stands; known once read from the store. */
  readonly publication?: Publication;
}

/** Why the broker refused a version of a definition for good. */
export interface PublishFailure {
  readonly version: number;
  readonly error: string;
  readonly atMs: number;
}

/** A segment whose changes are still to record and publish. */
export interface PendingSegment {
  readonly id: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly current: Segment;
  readonly pending: readonly PendingChange[];
}

/** A change not yet recorded in history and published (the outbox, kept beside the segment). */
export interface PendingChange {
  readonly version: number;
  readonly snapshot: Segment;
  readonly change: SegmentChange;
}

/** What to list; empty filters match everything. */
export interface SegmentListCriteria {
  /** Whose view: a user sees their own and shared (not hidden) segments; undefined sees all. */
  readonly viewer?: { subject: string; groups: readonly string[] };
  readonly kinds: readonly SegmentKind[];
  readonly refreshModes: readonly RefreshMode[];
  readonly statuses: readonly SegmentStatus[];
  readonly visibilities: readonly Visibility[];
  /** Segments carrying every one of these tags. */
  readonly tags: readonly string[];
  readonly owners: readonly string[];
  /** Case-insensitive substring of name, description or a tag. */
  readonly search: string;
  /** Unspecified (or unknown) sorts by last change; ties go by id. */
  readonly sort: SegmentSort;
  readonly descending: boolean;
  /** Continue after this position (from a previous page). */
  readonly after?: ListPosition;
  readonly limit: number;
}

/** Where a listed segment stands in its sort order. */
export interface ListPosition {
  readonly value: string | number;
  readonly id: string;
}

export interface ListedSegment {
  readonly segment: Segment;
  readonly position: ListPosition;
  readonly publication: Publication;
}

/** A live static list and the change its kept member count is of (none kept yet: undefined). */
export interface ListCountSeq {
  readonly id: string;
  readonly seq: number | undefined;
}

/** Outcome of a compare-and-set replace. */
export type ReplaceOutcome = 'ok' | 'conflict' | 'name-taken';

export const SEGMENT_REPOSITORY = Symbol('SegmentRepository');

/**
 * Storage of segment definitions, their versions and their outbox. Every write is a
 * single-document operation; names are unique per owner among live segments (case-insensitively,
 * see `nameKey`), so a deleted segment frees its name.
 */
export interface SegmentRepositoryPort {
  /** Inserts a new segment with its first change pending; false when its owner already has one with that name. */
  insert(stored: StoredSegment, pending: PendingChange): Promise<boolean>;
  findById(id: string): Promise<StoredSegment | undefined>;
  findByIds(ids: readonly string[]): Promise<Map<string, StoredSegment>>;
  /** Replaces the segment if it is still at `expectedVersion`, queueing `pending`. */
  replace(
    expectedVersion: number,
    stored: StoredSegment,
    pending: PendingChange,
  ): Promise<ReplaceOutcome>;
  /** Live segments (and lists) of one owner. */
  countOwned(owner: string): Promise<number>;
  /** Live segments whose rules read `id`. */
  findReferencing(id: string): Promise<StoredSegment[]>;
  /** Live segments matching the criteria, in their sort order, at most `limit`. */
  list(criteria: SegmentListCriteria): Promise<ListedSegment[]>;
  /** Records a change in history (idempotent: saving the same version again replaces it). */
  saveVersion(change: PendingChange): Promise<void>;
  findVersion(
    segmentId: string,
    version: number,
  ): Promise<{ snapshot: Segment; change: SegmentChange } | undefined>;
  /** History entries up to the current version, newest first, below `beforeVersion`. */
  listChanges(
    segmentId: string,
    currentVersion: number,
    beforeVersion: number,
    limit: number,
  ): Promise<SegmentChange[]>;
  /**
   * Segments with changes still to record and publish: at most `maxSegments`, and no more than
   * `maxBytes` of stored documents (but at least one).
   */
  withPendingChanges(bounds: { maxSegments: number; maxBytes: number }): Promise<PendingSegment[]>;
  /** The changes up to this version are published: clears them and any earlier failure. */
  clearPending(id: string, upToVersion: number): Promise<void>;
  /** The broker refused the definition at `failure.version` for good: clears the changes up to it. */
  markPublishFailed(id: string, failure: PublishFailure): Promise<void>;
  /** Removes a deleted segment and its history for good (a live one stays). */
  purge(id: string): Promise<void>;
  /**
   * Keeps membership's figures for segments, by id (an unknown id is ignored). Reads show them
   * in the segment (`withEvaluation`) and list sorting by member count uses them.
   */
  saveEvaluations(evaluations: ReadonlyMap<string, SegmentEvaluation>): Promise<void>;
  /**
   * Keeps a static list's member count as of its committed change `seq` (an unknown id is
   * ignored, and so is a count older than the one kept). Reads show it as the list's
   * member_count and list sorting by member count uses it.
   */
  saveListMemberCount(id: string, count: number, seq: number): Promise<void>;
  /** Up to `limit` live static lists with ids after `afterId` (from the start when empty), in id order. */
  listCountSeqs(afterId: string, limit: number): Promise<ListCountSeq[]>;
}
