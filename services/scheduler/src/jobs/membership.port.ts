export const MEMBERSHIP = Symbol('Membership');

/** How the scheduler reaches the membership service: commands out, and what it needs to know. */
export interface MembershipPort {
  refresh(command: {
    jobId: string;
    segmentId: string;
    requestedBy: string;
    requestedAtMs: number;
    /** Not started by then, membership does not start it (the job has timed out here). */
    startBeforeMs: number;
  }): Promise<void>;
  cancel(command: { jobId: string; segmentId: string }): Promise<void>;
  /** How many partitions membership works in (those of the profile-changes topic). */
  partitionCount(): Promise<number>;
  /** Records ingestion and membership have yet to consume, summed over their input topics. */
  upstreamLag(): Promise<number>;
}

export const JOB_SETTINGS = Symbol('JobSettings');

export interface JobSettings {
  /** A running job with no progress report for this long fails. */
  readonly timeoutMs: number;
  /** Before a refresh runs, wait until upstream lag is at most this (records); 0 never waits. */
  readonly lagBound: number;
  /** The longest such wait; then the refresh runs with a warning. */
  readonly lagMaxWaitMs: number;
}
