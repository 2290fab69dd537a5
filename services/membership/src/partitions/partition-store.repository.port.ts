import type { SegmentState } from '@shoal/contracts';
import type { BucketDigest } from '../evaluation/member-index';
import type { ContactsProgress } from '../evaluation/contacts';
import type { HistoryChunk, ProfileState } from '../evaluation/profile-state';
import type { CatalogueSummary } from '../evaluation/segment-catalogue';
import type { BucketWrite } from '../evaluation/working-set';

export const PARTITION_STORE = Symbol('PartitionStore');

/** An offset per input topic of a partition (-1: none). */
export interface InputOffsets {
  readonly changes: number;
  readonly lists: number;
  /** Absent in documents written before contacts were evaluated. */
  readonly contacts?: number;
}

/** A partition's checkpoint: where its state stands and who owns it (docs/membership.md). */
export interface PartitionDocument {
  readonly partition: number;
  /** Incremented by every new owner; a checkpoint of an older epoch is refused. */
  readonly epoch: number;
  readonly createdAt: number;
  /** The last offset of each input topic the checkpoint includes (-1: none). */
  readonly offsets: InputOffsets;
  /** The end offset of the partition's own output partition when the checkpoint was taken. */
  readonly outputOffset: number;
  readonly applied: CatalogueSummary;
  /** What the partition's accounts heard of contact signatures (absent: nothing yet). */
  readonly contacts?: ContactsProgress;
  /** Digests of the stored member chunks, keyed `<segment>/<bucket>`. */
  readonly digests: Readonly<Record<string, BucketDigest>>;
  /** Refresh jobs finished in this partition: job id → when. */
  readonly finishedJobs: Readonly<Record<string, number>>;
  /** When each segment was last fully (re)computed in this partition. */
  readonly refreshedAt: Readonly<Record<string, number>>;
}

/** How one segment stands in one partition (the stored and published status). */
export interface PartitionStatus {
  readonly segmentId: string;
  readonly partition: number;
  readonly partitionCount: number;
  readonly version: number;
  readonly state: SegmentState;
  readonly memberCount: number;
  /** The segment's value trait ('' for none), the sum over members and how many had a value. */
  readonly valueTrait: string;
  readonly valueSum?: number;
  readonly valuedMemberCount: number;
  readonly lastEvaluatedAt?: number;
  readonly lastRefreshedAt?: number;
  readonly lagMs: number;
  readonly lastError: string;
  readonly notes: readonly string[];
  readonly reportedAt: number;
}

/** One checkpoint's writes, in the order they are made. */
export interface CheckpointWrite {
  readonly chunks: readonly HistoryChunk[];
  /** Serialised profile states (JSON), by profile id. */
  readonly states: ReadonlyMap<string, string>;
  readonly deletedProfiles: readonly string[];
  readonly droppedChunks: readonly string[];
  readonly buckets: readonly BucketWrite[];
  readonly document: PartitionDocument;
}

/**
 * Where membership keeps each partition's working set, history, read model and checkpoint.
 * Every read is by `_id`, or a full read of one partition's collection (loading, backfills).
 */
export interface PartitionStore {
  /** Takes ownership of a partition: a new epoch (creating its document on first use). */
  claim(partition: number, now: number): Promise<PartitionDocument>;
  /** Every profile state of a partition. */
  loadStates(partition: number): AsyncIterable<ProfileState>;
  findState(partition: number, profileId: string): Promise<ProfileState | undefined>;
  /** Every stored history chunk of a partition (a backfill). */
  streamChunks(partition: number): AsyncIterable<HistoryChunk>;
  findChunks(partition: number, ids: readonly string[]): Promise<HistoryChunk[]>;
  /**
   * Writes a checkpoint: chunks, then states, deletions and member chunks, then the partition
   * document — the last only if the partition still has this epoch. Returns false when a newer
   * owner has taken the partition (nothing more may be written for it).
   */
  writeCheckpoint(partition: number, write: CheckpointWrite): Promise<boolean>;
  /**
   * Stores segment statuses of a partition and removes those of `removed` segments, in unordered
   * bulk writes, unless a newer owner than `epoch` has taken the partition (false).
   */
  writeStatuses(
    partition: number,
    epoch: number,
    statuses: readonly PartitionStatus[],
    removed: readonly string[],
  ): Promise<boolean>;
  /** A segment's members in one partition, sorted. */
  readMembers(segmentId: string, partition: number): Promise<string[]>;
  readStatuses(segmentId: string, partitions: readonly number[]): Promise<PartitionStatus[]>;
  /** Every stored status of one partition (its new owner's starting point). */
  readPartitionStatuses(partition: number): Promise<PartitionStatus[]>;
}
