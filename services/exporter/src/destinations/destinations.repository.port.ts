import type { DeadLetter, Destination, SyncRun } from '@shoal/contracts';
import type { SyncRecord } from './destination-kind';

/** Destinations as stored, secrets included (reads over gRPC redact them). */
export interface DestinationRepositoryPort {
  insert(destination: Destination): Promise<void>;
  get(id: string): Promise<Destination | undefined>;
  /** Newest first; every owner's when `owner` is undefined. */
  list(owner: string | undefined, limit: number): Promise<Destination[]>;
  /** Replaces the stored destination if it is still at `expectedVersion`; false otherwise. */
  replace(destination: Destination, expectedVersion: bigint): Promise<boolean>;
  remove(id: string): Promise<void>;
}

/** Where a record stood on the transitions topic: its order in its link's queue. */
export interface QueuePosition {
  readonly partition: number;
  readonly offset: number;
}

/** A record waiting for its destination, in order per Kafka partition (so per profile). */
export interface QueuedRecord {
  /** "<destination id>/<segment id>/<event id>": queuing the same transition again is a no-op. */
  readonly id: string;
  readonly destinationId: string;
  readonly segmentId: string;
  readonly partition: number;
  readonly offset: number;
  readonly record: SyncRecord;
  readonly queuedAt: Date;
}

/** Per-destination queues of incremental records: what survives a restart until delivered. */
export interface SyncQueuePort {
  /** Queues what is not queued yet; answers the records that were new. */
  enqueue(records: readonly QueuedRecord[]): Promise<QueuedRecord[]>;
  /** The oldest records of one destination's link, in (partition, offset) order. */
  pending(destinationId: string, segmentId: string, limit: number): Promise<QueuedRecord[]>;
  remove(ids: readonly string[]): Promise<void>;
  /** Drops a link's queue (unlinked, or the destination deleted). */
  clear(destinationId: string, segmentId?: string): Promise<void>;
}

/** Where one link's syncing stands (kept apart from the destination, which users edit). */
export interface LinkState {
  readonly destinationId: string;
  readonly segmentId: string;
  readonly lastSyncedAt?: Date;
  readonly lastSyncedEventId: string;
  /** The (profile, segment) sequence of the last entered / exited record delivered. */
  readonly lastSyncedSequence: number;
  readonly recordsSynced: number;
  /** Records queued while auto-sync was off. */
  readonly pausedBacklog: number;
  /** The paused backlog overflowed and was dropped: a full sync is owed. */
  readonly fullSyncRequired: boolean;
  /** The last scheduled full sync that was started (its slot, not when it ran). */
  readonly lastScheduledAt?: Date;
}

/** Per-(destination, segment) sync state; it survives restarts and auto-sync switched off. */
export interface LinkStateRepositoryPort {
  get(destinationId: string, segmentId: string): Promise<LinkState | undefined>;
  /** Records delivered: the last of them becomes the link's last synced record. */
  delivered(
    destinationId: string,
    segmentId: string,
    last: { at: Date; eventId: string; sequence?: number; records: number },
  ): Promise<void>;
  /** Adds to the paused backlog; answers the new total. */
  addBacklog(destinationId: string, segmentId: string, records: number): Promise<number>;
  /** Sets (or clears) "a full sync is owed"; setting it empties the paused backlog count. */
  setFullSyncRequired(destinationId: string, segmentId: string, required: boolean): Promise<void>;
  /** Auto-sync is on again: the backlog is now an ordinary queue. */
  resumed(destinationId: string, segmentId: string): Promise<void>;
  /**
   * Claims the scheduled slot `at` for a full sync; true exactly once per slot (a later slot
   * than the last claimed one).
   */
  claimScheduled(destinationId: string, segmentId: string, at: Date): Promise<boolean>;
  remove(destinationId: string, segmentId?: string): Promise<void>;
  /** Forgets the last synced record where it is a full sync's record of one of the profiles. */
  forgetProfiles(profileIds: readonly string[]): Promise<void>;
}

/**
 * A dead letter as stored: for an incremental batch, also where each of its records stood in
 * its link's queue (in the payload's order), so a redelivery queues them where they were.
 */
export interface StoredDeadLetter {
  readonly letter: DeadLetter;
  readonly positions: readonly QueuePosition[];
  /** How often it was rewritten (erased profiles taken out): guards a rewrite. */
  readonly revision?: number;
}

/** Sync runs and dead letters. */
export interface SyncRunRepositoryPort {
  /** Inserts or replaces a run by id. */
  save(run: SyncRun): Promise<void>;
  runs(destinationId: string, limit: number): Promise<SyncRun[]>;
  /** Inserts or replaces a dead letter by id. */
  deadLetter(letter: DeadLetter, positions?: readonly QueuePosition[]): Promise<void>;
  /** Newest first. */
  deadLetters(destinationId: string, limit: number): Promise<DeadLetter[]>;
  /** Those of the named dead letters that are the destination's, in the order named. */
  deadLettersById(destinationId: string, ids: readonly string[]): Promise<StoredDeadLetter[]>;
  /** The destination's oldest dead letters of incremental batches of the given segments. */
  incrementalDeadLetters(
    destinationId: string,
    segmentIds: readonly string[],
    limit: number,
  ): Promise<StoredDeadLetter[]>;
  /** How many incremental dead letters of the given segments the destination has. */
  countIncrementalDeadLetters(
    destinationId: string,
    segmentIds: readonly string[],
  ): Promise<number>;
  removeDeadLetters(ids: readonly string[]): Promise<void>;
  /** The dead letters (of any destination) holding records of any of the profiles. */
  deadLettersOfProfiles(profileIds: readonly string[]): Promise<StoredDeadLetter[]>;
  /**
   * Replaces a dead letter's records (and their positions) if it is still as read — neither
   * removed nor rewritten since; false otherwise.
   */
  rewriteDeadLetter(stored: StoredDeadLetter): Promise<boolean>;
}

/**
 * Profiles erased lately, so a dead letter written after an erasure (its records read before)
 * can be cleaned too. Kept by a hash of the profile id, never the id itself, for as long as an
 * erasure can still be read from its topic.
 */
export interface ErasureRepositoryPort {
  /** Records that the profiles were erased at `at` (a later erasure moves the time on). */
  record(profileIds: readonly string[], at: Date): Promise<void>;
  /** When each of the given profiles that were erased lately was erased. */
  erasedAt(profileIds: readonly string[]): Promise<Map<string, Date>>;
}

/** Which partitions of each refresh job have finished, so a job's completion is seen once. */
export interface RefreshJobRepositoryPort {
  /**
   * Records that one partition of a job succeeded; true exactly once, for the call that finds
   * every one of its `partitionCount` partitions done (replays answer false).
   */
  partitionSucceeded(job: {
    jobId: string;
    segmentId: string;
    partition: number;
    partitionCount: number;
  }): Promise<boolean>;
}

export const REFRESH_JOB_REPOSITORY = Symbol('RefreshJobRepository');
export const DESTINATION_REPOSITORY = Symbol('DestinationRepository');
export const SYNC_QUEUE = Symbol('SyncQueue');
export const LINK_STATE_REPOSITORY = Symbol('LinkStateRepository');
export const SYNC_RUN_REPOSITORY = Symbol('SyncRunRepository');
export const ERASURE_REPOSITORY = Symbol('ErasureRepository');
