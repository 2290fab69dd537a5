import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  JobStatus,
  type JobTrigger,
  type RefreshJob,
  RefreshJobSchema,
  RefreshState,
} from '@shoal/contracts';

/** One partition's last word on a job, as membership reported it. */
export interface PartitionReport {
  readonly state: RefreshState;
  readonly processed: number;
  readonly total: number;
  readonly entered: number;
  readonly exited: number;
  readonly detail: string;
  readonly segmentVersion: number;
  readonly reportedAtMs: number;
}

/** A refresh job as the scheduler keeps it. */
export interface Job {
  readonly id: string;
  readonly segmentId: string;
  readonly status: JobStatus;
  readonly trigger: JobTrigger;
  readonly requestedBy: string;
  readonly createdAtMs: number;
  readonly scheduledForMs?: number;
  /** When the refresh command was published (the job waits in QUEUED until then). */
  readonly dispatchedAtMs?: number;
  readonly startedAtMs?: number;
  readonly finishedAtMs?: number;
  /** Membership's partitions (from the profile-changes topic's metadata) when dispatched. */
  readonly partitionCount: number;
  readonly partitions: Readonly<Record<string, PartitionReport>>;
  readonly lastReportAtMs?: number;
  readonly afterJobIds: readonly string[];
  readonly cancelRequested: boolean;
  readonly warnings: readonly string[];
  readonly error: string;
}

export const FINAL_JOB_STATUSES: readonly JobStatus[] = [
  JobStatus.SUCCEEDED,
  JobStatus.FAILED,
  JobStatus.CANCELLED,
  JobStatus.SKIPPED,
];

export const isFinal = (status: JobStatus) => FINAL_JOB_STATUSES.includes(status);

/** Partition states after which a partition's report no longer changes. */
export const FINAL_REFRESH_STATES: readonly RefreshState[] = [
  RefreshState.SUCCEEDED,
  RefreshState.FAILED,
  RefreshState.CANCELLED,
  RefreshState.SKIPPED,
];

export const isFinalReport = (report: PartitionReport | undefined) =>
  report !== undefined && FINAL_REFRESH_STATES.includes(report.state);

/** The job's figures summed over its partitions. */
export function totalsOf(job: Job) {
  const reports = Object.values(job.partitions);
  const sum = (pick: (r: PartitionReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  return {
    processed: sum((r) => r.processed),
    total: sum((r) => r.total),
    entered: sum((r) => r.entered),
    exited: sum((r) => r.exited),
    partitionsDone: reports.filter(isFinalReport).length,
    segmentVersion: Math.max(0, ...reports.map((r) => r.segmentVersion)),
  };
}

/**
 * How the job ended, once every partition reported a final state (undefined before): FAILED
 * when any partition failed, else CANCELLED when any was cancelled, SKIPPED when all skipped,
 * else SUCCEEDED; with every failing partition's reason.
 */
export function outcomeOf(job: Job): { status: JobStatus; error: string } | undefined {
  if (job.partitionCount <= 0) return undefined;
  const reports: PartitionReport[] = [];
  for (let p = 0; p < job.partitionCount; p++) {
    const report = job.partitions[String(p)];
    if (!report || !isFinalReport(report)) return undefined;
    reports.push(report);
  }
  const reasons = (state: RefreshState) =>
    [
      ...new Set(reports.filter((r) => r.state === state && r.detail !== '').map((r) => r.detail)),
    ].join('; ');
  if (reports.some((r) => r.state === RefreshState.FAILED))
    return {
      status: JobStatus.FAILED,
      error: reasons(RefreshState.FAILED) || 'a partition failed',
    };
  if (reports.some((r) => r.state === RefreshState.CANCELLED))
    return { status: JobStatus.CANCELLED, error: '' };
  if (reports.every((r) => r.state === RefreshState.SKIPPED))
    return { status: JobStatus.SKIPPED, error: reasons(RefreshState.SKIPPED) };
  return { status: JobStatus.SUCCEEDED, error: '' };
}

/** The job as SchedulerService answers it. */
export function refreshJobOf(job: Job): RefreshJob {
  const totals = totalsOf(job);
  const at = (ms: number | undefined) => (ms === undefined ? undefined : timestampFromMs(ms));
  return create(RefreshJobSchema, {
    id: job.id,
    segmentId: job.segmentId,
    status: job.status,
    trigger: job.trigger,
    requestedBy: job.requestedBy,
    createdAt: at(job.createdAtMs),
    startedAt: at(job.startedAtMs),
    finishedAt: at(job.finishedAtMs),
    scheduledFor: at(job.scheduledForMs),
    processed: BigInt(totals.processed),
    total: BigInt(totals.total),
    entered: BigInt(totals.entered),
    exited: BigInt(totals.exited),
    partitionsDone: totals.partitionsDone,
    partitionCount: job.partitionCount,
    warnings: [...job.warnings],
    error: job.error,
    afterJobIds: [...job.afterJobIds],
    segmentVersion: BigInt(totals.segmentVersion),
  });
}
