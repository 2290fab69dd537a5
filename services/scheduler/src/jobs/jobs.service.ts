import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  JobStatus,
  JobTrigger,
  type RefreshProgress,
  type Segment,
  SegmentKind,
} from '@shoal/contracts';
import { CLOCK, type Clock, LOGGER, type Logger, type Principal } from '@shoal/platform';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { SegmentCatalogue, isActive } from '../definitions/segment-catalogue';
import { type Job, type PartitionReport, isFinal, outcomeOf } from './job';
import { JobError } from './jobs.errors';
import {
  JOB_REPOSITORY,
  type JobListCriteria,
  type JobRepositoryPort,
} from './jobs.repository.port';
import { JOB_SETTINGS, type JobSettings, MEMBERSHIP, type MembershipPort } from './membership.port';

export const MAX_SEGMENTS_PER_REFRESH = 100;
const SCHEDULER_SUBJECT = 'scheduler';
/** How often a rule change tries to take its segment over from the jobs active on it. */
const SUPERSEDE_ATTEMPTS = 3;

const newJobId = () => `job_${randomBytes(15).toString('base64url').toLowerCase().slice(0, 20)}`;

/** A scheduled job's id: one per (segment, tick), so a tick fired twice is one job. */
export const tickJobId = (segmentId: string, tickMs: number) =>
  `${segmentId}@${new Date(tickMs).toISOString()}`;

/**
 * Refresh jobs: asked for (now, or by a schedule tick), dispatched to membership as commands
 * once what they wait for is done, followed through membership's per-partition progress to
 * their outcome, cancelled, and failed when their worker stops reporting. One job per segment
 * is active at a time: a request for a segment with a job queued or running joins that job.
 */
@Injectable()
export class JobsService {
  constructor(
    @Inject(JOB_REPOSITORY) private readonly jobs: JobRepositoryPort,
    @Inject(MEMBERSHIP) private readonly membership: MembershipPort,
    @Inject(JOB_SETTINGS) private readonly settings: JobSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly catalogue: SegmentCatalogue,
  ) {}

  /** Refreshes segments now, referenced ones first; each joins its segment's active job if any. */
  async refreshNow(segmentIds: readonly string[], principal: Principal): Promise<Job[]> {
    if (segmentIds.length === 0 || segmentIds.length > MAX_SEGMENTS_PER_REFRESH)
      throw JobError.invalid(
        'segmentIds',
        `name 1 to ${MAX_SEGMENTS_PER_REFRESH} segments; got ${segmentIds.length}`,
      );
    const unique = [...new Set(segmentIds)];
    await this.catalogue.catchUpFor(unique);
    for (const id of unique) this.refreshable(id, principal);
    const jobOf = new Map<string, Job>();
    for (const id of this.catalogue.referencedFirst(unique)) {
      const after = this.catalogue.referencesOf(id).flatMap((used) => {
        const job = jobOf.get(used);
        return job && !isFinal(job.status) ? [job.id] : [];
      });
      const job = await this.start({
        segment: this.catalogue.get(id) as Segment,
        id: newJobId(),
        trigger: JobTrigger.MANUAL,
        requestedBy: principal.subject,
        afterJobIds: after,
      });
      jobOf.set(id, await this.dispatchNow(job));
    }
    return [...jobOf.values()];
  }

  /**
   * A schedule tick of a segment: one job per (segment, tick) whichever instance fires it;
   * SKIPPED when the segment is inactive or a refresh of it is already active.
   */
  async tick(segment: Segment, tickMs: number): Promise<Job | undefined> {
    const job = await this.start({
      segment,
      id: tickJobId(segment.id, tickMs),
      trigger: JobTrigger.SCHEDULE,
      requestedBy: SCHEDULER_SUBJECT,
      scheduledForMs: tickMs,
      afterJobIds: [],
      joins: false,
    });
    return this.dispatchNow(job);
  }

  private async start({
    segment,
    id,
    trigger,
    requestedBy,
    scheduledForMs,
    afterJobIds,
    joins = true,
  }: {
    segment: Segment;
    id: string;
    trigger: JobTrigger;
    requestedBy: string;
    scheduledForMs?: number;
    afterJobIds: readonly string[];
    joins?: boolean;
  }): Promise<Job> {
    const now = this.clock.now().getTime();
    const job: Job = {
      id,
      segmentId: segment.id,
      status: JobStatus.QUEUED,
      trigger,
      requestedBy,
      createdAtMs: now,
      ...(scheduledForMs === undefined ? {} : { scheduledForMs }),
      partitionCount: 0,
      partitions: {},
      afterJobIds: [...afterJobIds],
      cancelRequested: false,
      warnings: [],
      error: '',
    };
    if (!isActive(segment)) {
      const skipped = {
        ...job,
        status: JobStatus.SKIPPED,
        finishedAtMs: now,
        error: 'the segment is inactive',
      };
      if (!(await this.jobs.insert(skipped))) return (await this.jobs.find(id)) ?? skipped;
      await this.jobs.releaseSegment(segment.id, skipped);
      return skipped;
    }
    if (!(await this.jobs.insert(job))) return (await this.jobs.find(id)) ?? job;
    const active = await this.jobs.claimSegment(segment.id, id);
    if (active !== id) {
      const running = await this.jobs.find(active);
      if (running && !isFinal(running.status)) {
        if (joins) {
          await this.jobs.remove(id);
          return running;
        }
        const error = `a refresh of the segment was already active (job ${active})`;
        return (
          (await this.jobs.update(id, [JobStatus.QUEUED], {
            status: JobStatus.SKIPPED,
            finishedAtMs: now,
            error,
          })) ?? job
        );
      }
      // the active job is gone or over (a crash between its end and the release): take over
      await this.jobs.releaseSegment(
        segment.id,
        running ?? { ...job, id: active, status: JobStatus.FAILED },
      );
      const again = await this.jobs.claimSegment(segment.id, id);
      if (again !== id) return (await this.jobs.find(again)) ?? job;
    }
    await this.jobs.addActive(id);
    return job;
  }

  /**
   * Publishes the refresh command of every queued job whose preceding jobs ended, once upstream
   * lag is below its bound (or the wait is over: then with a warning). Jobs are sent as they are
   * asked for and as what they wait for ends; this, on every tick, sends those that had to wait
   * (lag, a command that could not be sent).
   */
  async dispatchQueued(): Promise<void> {
    for (const job of await this.activeJobs()) await this.dispatch(job);
  }

  /**
   * Sends a job just made or joined at once when nothing holds it back; one that cannot be sent
   * now stays queued for the next tick (its record is kept either way).
   */
  private async dispatchNow(job: Job): Promise<Job> {
    if (job.status !== JobStatus.QUEUED || job.dispatchedAtMs !== undefined) return job;
    try {
      return (await this.dispatch(job)) ?? job;
    } catch (error) {
      this.logger.warn(
        { err: error, jobId: job.id },
        'refresh not dispatched yet: the next tick retries',
      );
      return (await this.jobs.find(job.id)) ?? job;
    }
  }

  /**
   * Sends one queued job's command unless it waits for other jobs or for upstream lag. The job is
   * marked dispatched (durably, once whichever instance tries) before its command goes out, and
   * the mark is taken back when the command could not be sent. The job after, when sent.
   */
  private async dispatch(job: Job): Promise<Job | undefined> {
    if (job.status !== JobStatus.QUEUED || job.dispatchedAtMs !== undefined) return undefined;
    // cancelled while its command could not be sent: it never ran
    if (job.cancelRequested) {
      await this.finish(job, JobStatus.CANCELLED, '');
      return undefined;
    }
    const now = this.clock.now().getTime();
    const before = await Promise.all(job.afterJobIds.map((id) => this.jobs.find(id)));
    if (before.some((b) => b !== undefined && !isFinal(b.status))) return undefined;
    const warnings = [...job.warnings];
    if (this.settings.lagBound > 0) {
      const lag = await this.membership.upstreamLag();
      if (lag > this.settings.lagBound) {
        if (now - job.createdAtMs < this.settings.lagMaxWaitMs) return undefined;
        warnings.push(
          `ran with upstream lag of ${lag} records, above the bound of ${this.settings.lagBound}, after waiting ${Math.round(this.settings.lagMaxWaitMs / 1000)} s`,
        );
      }
    }
    const partitionCount = await this.membership.partitionCount();
    const claimed = await this.jobs.markDispatched(job.id, {
      dispatchedAtMs: now,
      partitionCount,
      warnings,
    });
    if (!claimed) return undefined;
    try {
      await this.membership.refresh({
        jobId: job.id,
        segmentId: job.segmentId,
        requestedBy: job.requestedBy,
        requestedAtMs: now,
        // a worker silent this long fails the job here, so it must not start it after that
        startBeforeMs: now + this.settings.timeoutMs,
      });
    } catch (error) {
      await this.jobs.unmarkDispatched(job.id, now);
      throw error;
    }
    this.logger.info({ jobId: job.id, segmentId: job.segmentId }, 'refresh dispatched');
    return claimed;
  }

  /** Membership's progress reports: each partition's last word, summed into its job. */
  async applyProgress(reports: readonly RefreshProgress[]): Promise<void> {
    for (const progress of reports) {
      if (progress.ruleChange) await this.ruleChangeReported(progress);
      const reportedAtMs = progress.reportedAt
        ? timestampMs(progress.reportedAt)
        : this.clock.now().getTime();
      const report: PartitionReport = {
        state: progress.state,
        processed: Number(progress.processed),
        total: Number(progress.total),
        entered: Number(progress.entered),
        exited: Number(progress.exited),
        detail: progress.detail,
        segmentVersion: Number(progress.segmentVersion),
        reportedAtMs,
      };
      const job = await this.jobs.report(
        progress.jobId,
        progress.partition,
        report,
        this.clock.now().getTime(),
      );
      if (!job || isFinal(job.status)) continue;
      const current =
        job.status === JobStatus.QUEUED
          ? ((await this.jobs.update(job.id, [JobStatus.QUEUED], {
              status: JobStatus.RUNNING,
              startedAtMs: progress.startedAt ? timestampMs(progress.startedAt) : reportedAtMs,
              ...(job.partitionCount === 0 ? { partitionCount: progress.partitionCount } : {}),
            })) ?? (await this.jobs.find(job.id)))
          : job;
      const outcome = current && outcomeOf(current);
      if (current && outcome) await this.finish(current, outcome.status, outcome.error);
    }
  }

  /**
   * Membership re-evaluates a segment by itself when a new version changes its rule or value
   * trait, and reports it under one job id per (segment, version): the first report makes it a
   * RULE_CHANGE job (never dispatched: it runs already). It becomes the segment's active job — a
   * refresh queued or running is superseded (CANCELLED, and stopped in membership), as the
   * re-evaluation computes every member under the new rule anyway — so a request meanwhile joins
   * it and a tick is SKIPPED; it is failed like any job when its partitions stop reporting.
   */
  private async ruleChangeReported(progress: RefreshProgress): Promise<void> {
    if (await this.jobs.find(progress.jobId)) return;
    const now = this.clock.now().getTime();
    const { segmentId } = progress;
    const version = Number(progress.segmentVersion);
    const definition = this.catalogue.get(segmentId);
    const job: Job = {
      id: progress.jobId,
      segmentId,
      status: JobStatus.QUEUED,
      trigger: JobTrigger.RULE_CHANGE,
      requestedBy:
        definition && Number(definition.version) === version && definition.updatedBy !== ''
          ? definition.updatedBy
          : SCHEDULER_SUBJECT,
      createdAtMs: now,
      dispatchedAtMs: now,
      partitionCount: progress.partitionCount,
      partitions: {},
      afterJobIds: [],
      cancelRequested: false,
      warnings: [],
      error: '',
    };
    if (!(await this.jobs.insert(job))) return;
    for (let attempt = 0; attempt < SUPERSEDE_ATTEMPTS; attempt++) {
      const active = await this.jobs.claimSegment(segmentId, job.id);
      if (active === job.id) break;
      const superseded = await this.jobs.find(active);
      if (superseded && !isFinal(superseded.status)) {
        await this.finish(
          superseded,
          JobStatus.CANCELLED,
          `superseded by the rule change to version ${version} (job ${job.id})`,
        );
        if (superseded.dispatchedAtMs !== undefined)
          await this.membership.cancel({ jobId: superseded.id, segmentId });
      } else {
        await this.jobs.releaseSegment(
          segmentId,
          superseded ?? { ...job, id: active, status: JobStatus.FAILED },
        );
      }
    }
    await this.jobs.addActive(job.id);
  }

  /** Fails running jobs whose worker has not reported for longer than the timeout. */
  async expireStalled(): Promise<void> {
    const now = this.clock.now().getTime();
    for (const job of await this.activeJobs()) {
      if (isFinal(job.status) || job.dispatchedAtMs === undefined) continue;
      const lastHeard = job.lastReportAtMs ?? job.dispatchedAtMs;
      if (now - lastHeard <= this.settings.timeoutMs) continue;
      const silentFor = Math.round((now - lastHeard) / 1000);
      await this.finish(job, JobStatus.FAILED, `no progress reported for ${silentFor} s`);
      await this.membership.cancel({ jobId: job.id, segmentId: job.segmentId });
    }
  }

  /**
   * Stops a job: a queued one ends CANCELLED at once, a running one once membership stopped it; a
   * rule change's is answered as it is.
   */
  async cancel(jobId: string, principal: Principal): Promise<Job> {
    const job = await this.visibleJob(jobId, principal);
    await this.catalogue.catchUpFor([job.segmentId]);
    this.editable(job.segmentId, principal);
    // a rule change's re-evaluation is applied at once in each partition: nothing to stop
    if (isFinal(job.status) || job.trigger === JobTrigger.RULE_CHANGE) return job;
    if (job.dispatchedAtMs === undefined) {
      const cancelled = await this.finish(job, JobStatus.CANCELLED, '');
      if (cancelled) return cancelled;
    }
    await this.jobs.update(jobId, [JobStatus.QUEUED, JobStatus.RUNNING], { cancelRequested: true });
    await this.membership.cancel({ jobId, segmentId: job.segmentId });
    return (await this.jobs.find(jobId)) ?? job;
  }

  async get(jobId: string, principal: Principal): Promise<Job> {
    return this.visibleJob(jobId, principal);
  }

  /** Jobs newest first, of the segments the caller may see. */
  async list(
    criteria: Omit<JobListCriteria, 'segmentIds'> & { segmentId: string },
    principal: Principal,
  ): Promise<Job[]> {
    const { segmentId, ...rest } = criteria;
    if (segmentId && !(await this.catalogue.visibleNow(segmentId, principal)))
      throw JobError.segmentNotFound(segmentId);
    const found: Job[] = [];
    let after = rest.after;
    for (;;) {
      const page = await this.jobs.list({
        ...rest,
        ...(segmentId ? { segmentIds: [segmentId] } : {}),
        ...(after ? { after } : {}),
      });
      found.push(...page.filter((j) => this.catalogue.visible(j.segmentId, principal)));
      const last = page[page.length - 1];
      if (found.length >= rest.limit || page.length < rest.limit || !last) break;
      after = { createdAtMs: last.createdAtMs, id: last.id };
    }
    return found.slice(0, rest.limit);
  }

  /** Jobs queued or running now. */
  async activeJobs(): Promise<Job[]> {
    const ids = await this.jobs.activeJobIds();
    const jobs = await Promise.all(ids.map((id) => this.jobs.find(id)));
    const live: Job[] = [];
    for (const [i, job] of jobs.entries()) {
      if (job && !isFinal(job.status)) live.push(job);
      else await this.jobs.removeActive(ids[i] as string);
    }
    return live;
  }

  async lastFailure(): Promise<Job | undefined> {
    const id = await this.jobs.lastFailureId();
    return id === undefined ? undefined : this.jobs.find(id);
  }

  segmentJobs(segmentId: string) {
    return this.jobs.segmentJobs(segmentId);
  }

  /** Records a schedule tick as handled (fired, skipped or joined). */
  setLastTick(segmentId: string, tickMs: number) {
    return this.jobs.setLastTick(segmentId, tickMs);
  }

  private async finish(job: Job, status: JobStatus, error: string): Promise<Job | undefined> {
    const finished = await this.jobs.update(job.id, [JobStatus.QUEUED, JobStatus.RUNNING], {
      status,
      error,
      finishedAtMs: this.clock.now().getTime(),
    });
    if (!finished) return undefined;
    await this.jobs.releaseSegment(job.segmentId, finished);
    await this.jobs.removeActive(job.id);
    if (status === JobStatus.FAILED) await this.jobs.setLastFailure(job.id);
    this.logger.info({ jobId: job.id, segmentId: job.segmentId, status, error }, 'job ended');
    for (const waiting of await this.activeJobs())
      if (waiting.afterJobIds.includes(job.id)) await this.dispatchNow(waiting);
    return finished;
  }

  private async visibleJob(jobId: string, principal: Principal): Promise<Job> {
    const job = jobId ? await this.jobs.find(jobId) : undefined;
    if (!job || !this.catalogue.visible(job.segmentId, principal)) throw JobError.notFound(jobId);
    return job;
  }

  /** A dynamic segment the caller may edit (`catalogue.catchUpFor` it first); refused if not. */
  private refreshable(segmentId: string, principal: Principal): void {
    const segment = this.editable(segmentId, principal);
    if (segment.kind !== SegmentKind.DYNAMIC) throw JobError.notRefreshable(segmentId);
  }

  /** A segment the caller may edit (`catalogue.catchUpFor` it first); refused if not. */
  private editable(segmentId: string, principal: Principal): Segment {
    const segment = this.catalogue.visible(segmentId, principal);
    if (!segment) throw JobError.segmentNotFound(segmentId);
    const editors = segment.editors;
    const may =
      principal.kind === 'service' ||
      segment.owner === principal.subject ||
      editors?.subjects.includes(principal.subject) ||
      principal.groups.some((g) => editors?.groups.includes(g));
    if (!may) throw JobError.notEditor(segmentId);
    return segment;
  }
}
