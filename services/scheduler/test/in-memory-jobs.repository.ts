import { JobStatus } from '@shoal/contracts';
import { type Job, type PartitionReport, isFinalReport } from '../src/jobs/job';
import type {
  JobListCriteria,
  JobRepositoryPort,
  SegmentJobs,
} from '../src/jobs/jobs.repository.port';

/** Jobs in memory, with what the MongoDB repository guarantees (conditional updates by status). */
export class InMemoryJobRepository implements JobRepositoryPort {
  readonly jobs = new Map<string, Job>();
  private readonly segments = new Map<string, SegmentJobs>();
  private active: string[] = [];
  private failure?: string;

  async insert(job: Job) {
    if (this.jobs.has(job.id)) return false;
    this.jobs.set(job.id, structuredClone(job));
    return true;
  }

  async find(id: string) {
    const job = this.jobs.get(id);
    return job && structuredClone(job);
  }

  async update(id: string, from: readonly JobStatus[], fields: Partial<Job>) {
    const job = this.jobs.get(id);
    if (!job || !from.includes(job.status)) return undefined;
    const next = { ...job, ...structuredClone(fields), id };
    this.jobs.set(id, next);
    return structuredClone(next);
  }

  async report(id: string, partition: number, report: PartitionReport, heardAtMs: number) {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (!isFinalReport(job.partitions[String(partition)])) {
      this.jobs.set(id, {
        ...job,
        partitions: { ...job.partitions, [String(partition)]: { ...report } },
        lastReportAtMs: heardAtMs,
      });
    }
    return this.find(id);
  }

  async markDispatched(
    id: string,
    fields: Pick<Job, 'dispatchedAtMs' | 'partitionCount' | 'warnings'>,
  ) {
    const job = this.jobs.get(id);
    if (!job || job.status !== JobStatus.QUEUED || job.dispatchedAtMs !== undefined)
      return undefined;
    return this.update(id, [JobStatus.QUEUED], fields);
  }

  async unmarkDispatched(id: string, dispatchedAtMs: number) {
    const job = this.jobs.get(id);
    if (!job || job.status !== JobStatus.QUEUED || job.dispatchedAtMs !== dispatchedAtMs) return;
    const { dispatchedAtMs: _taken, ...rest } = job;
    this.jobs.set(id, rest);
  }

  async remove(id: string) {
    this.jobs.delete(id);
  }

  async list(c: JobListCriteria) {
    return [...this.jobs.values()]
      .filter(
        (j) =>
          (!c.segmentIds || c.segmentIds.includes(j.segmentId)) &&
          (c.statuses.length === 0 || c.statuses.includes(j.status)) &&
          (c.createdAfterMs === undefined || j.createdAtMs >= c.createdAfterMs) &&
          (c.createdBeforeMs === undefined || j.createdAtMs < c.createdBeforeMs) &&
          (!c.after ||
            j.createdAtMs < c.after.createdAtMs ||
            (j.createdAtMs === c.after.createdAtMs && j.id > c.after.id)),
      )
      .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? -1 : 1))
      .slice(0, c.limit)
      .map((j) => structuredClone(j));
  }

  async claimSegment(segmentId: string, jobId: string) {
    const state = this.segments.get(segmentId) ?? { segmentId };
    if (state.activeJobId) return state.activeJobId;
    this.segments.set(segmentId, { ...state, activeJobId: jobId });
    return jobId;
  }

  async releaseSegment(segmentId: string, job: Job) {
    const { activeJobId, ...state } = this.segments.get(segmentId) ?? { segmentId };
    this.segments.set(segmentId, {
      ...state,
      ...(activeJobId && activeJobId !== job.id ? { activeJobId } : {}),
      lastJobId: job.id,
      lastJobStatus: job.status,
      ...(job.status === JobStatus.SUCCEEDED && job.finishedAtMs !== undefined
        ? { lastSucceededAtMs: job.finishedAtMs }
        : {}),
    });
  }

  async segmentJobs(segmentId: string) {
    return { ...(this.segments.get(segmentId) ?? { segmentId }) };
  }

  async setLastTick(segmentId: string, tickMs: number) {
    const state = this.segments.get(segmentId) ?? { segmentId };
    this.segments.set(segmentId, {
      ...state,
      lastTickMs: Math.max(tickMs, state.lastTickMs ?? tickMs),
    });
  }

  async activeJobIds() {
    return [...this.active];
  }

  async addActive(jobId: string) {
    if (!this.active.includes(jobId)) this.active.push(jobId);
  }

  async removeActive(jobId: string) {
    this.active = this.active.filter((id) => id !== jobId);
  }

  async lastFailureId() {
    return this.failure;
  }

  async setLastFailure(jobId: string) {
    this.failure = jobId;
  }
}
