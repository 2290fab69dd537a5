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
  enqueue(records: readonly QueuedRecord[]): Promise<void>;
  /** The oldest records of one destination's link, in (partition, offset) order. */
  pending(destinationId: string, segmentId: string, limit: number): Promise<QueuedRecord[]>;
  remove(ids: readonly string[]): Promise<void>;
  /** Drops a link's queue (unlinked, or the destination deleted). */
  clear(destinationId: string, segmentId?: string): Promise<void>;
}

/** Sync runs and dead letters. */
export interface SyncRunRepositoryPort {
  /** Inserts or replaces a run by id. */
  save(run: SyncRun): Promise<void>;
  runs(destinationId: string, limit: number): Promise<SyncRun[]>;
  deadLetter(letter: DeadLetter): Promise<void>;
  deadLetters(destinationId: string, limit: number): Promise<DeadLetter[]>;
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
export const SYNC_RUN_REPOSITORY = Symbol('SyncRunRepository');
