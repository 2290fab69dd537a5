import type { JobStatus } from '@shoal/contracts';
import type { Job, PartitionReport } from './job';

export const JOB_REPOSITORY = Symbol('JobRepository');

/** Where a segment's jobs stand: the one queued or running, and how the last one ended. */
export interface SegmentJobs {
  readonly segmentId: string;
  readonly activeJobId?: string;
  readonly lastJobId?: string;
  readonly lastJobStatus?: JobStatus;
  /** End of the last job that SUCCEEDED. */
  readonly lastSucceededAtMs?: number;
  /** The last schedule tick handled (fired, skipped or joined). */
  readonly lastTickMs?: number;
}

export interface JobListCriteria {
  /** Only these segments; undefined for all. */
  readonly segmentIds?: readonly string[];
  readonly statuses: readonly JobStatus[];
  readonly createdAfterMs?: number;
  readonly createdBeforeMs?: number;
  /** Continue after this job (newest first: createdAtMs descending, then id). */
  readonly after?: { readonly createdAtMs: number; readonly id: string };
  readonly limit: number;
}

/**
 * Jobs (one document each, by id), each segment's job state (by segment id) and the index of
 * active jobs and the last failure (one document each): every read that runs often is by `_id`.
 */
export interface JobRepositoryPort {
  /** False when a job with this id exists (a schedule tick another instance fired). */
  insert(job: Job): Promise<boolean>;
  find(id: string): Promise<Job | undefined>;
  /** Sets fields of a job whose status is one of `from`; the job after, or undefined. */
  update(id: string, from: readonly JobStatus[], fields: Partial<Job>): Promise<Job | undefined>;
  /**
   * Keeps a partition's report unless that partition already reported a final state, and when
   * the scheduler heard from the job (its own clock: the worker's may differ).
   */
  report(
    id: string,
    partition: number,
    report: PartitionReport,
    heardAtMs: number,
  ): Promise<Job | undefined>;
  /**
   * Marks a queued job as dispatched with these fields unless it was already (by another instance
   * too): the job after when this call marked it, else undefined.
   */
  markDispatched(
    id: string,
    fields: Pick<Job, 'dispatchedAtMs' | 'partitionCount' | 'warnings'>,
  ): Promise<Job | undefined>;
  /** Takes back the mark `dispatchedAtMs` put on a job still queued (its command never went out). */
  unmarkDispatched(id: string, dispatchedAtMs: number): Promise<void>;
  remove(id: string): Promise<void>;
  list(criteria: JobListCriteria): Promise<Job[]>;

  /** Makes `jobId` the segment's active job unless one is; answers the active job's id. */
  claimSegment(segmentId: string, jobId: string): Promise<string>;
  /** The job ended: clears it as the segment's active job and records how it ended. */
  releaseSegment(segmentId: string, job: Job): Promise<void>;
  segmentJobs(segmentId: string): Promise<SegmentJobs>;
  setLastTick(segmentId: string, tickMs: number): Promise<void>;

  activeJobIds(): Promise<string[]>;
  addActive(jobId: string): Promise<void>;
  removeActive(jobId: string): Promise<void>;
  lastFailureId(): Promise<string | undefined>;
  setLastFailure(jobId: string): Promise<void>;
}
