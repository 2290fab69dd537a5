import { Inject, Injectable } from '@nestjs/common';
import { type JobStatus, type Segment, SegmentState } from '@shoal/contracts';
import { CLOCK, type Clock, type Principal } from '@shoal/platform';
import { ChurnService } from '../churn/churn.service';
import type { ChurnDay } from '../churn/churn.repository.port';
import { SegmentCatalogue } from '../definitions/segment-catalogue';
import { JobsService } from '../jobs/jobs.service';
import { type CronSchedule, dueTick } from '../schedules/schedule';
import { SchedulesService } from '../schedules/schedules.service';
import { DAY_MS, dayOf, daysBetween } from './days';
import { InsightError } from './insight.errors';
import { MemberCounts, type SegmentCount } from './member-counts';
import {
  SNAPSHOT_REPOSITORY,
  type Snapshot,
  type SnapshotRepositoryPort,
} from './snapshots.repository.port';

export const INSIGHT_SETTINGS = Symbol('InsightSettings');

export interface InsightSettings {
  /** When the daily snapshot is taken (SCHEDULER_SNAPSHOT_CRON, UTC). */
  readonly snapshotSchedule: CronSchedule;
}

export const MAX_HISTORY_DAYS = 400;
/** The days a summary's churn covers: today and the 29 before. */
const CHURN_SUMMARY_DAYS = 30;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface SegmentSummary {
  readonly segmentId: string;
  readonly memberCount: number;
  readonly change30d?: number;
  readonly change30dPercent?: number;
  readonly lastRefreshedAtMs?: number;
  readonly nextRunAt?: Date;
  readonly lastJobStatus?: JobStatus;
  readonly state: SegmentState;
  readonly entered30d: number;
  readonly exited30d: number;
  /** The segment's value trait and the sum over members now (when it names one). */
  readonly valueTrait: string;
  readonly valueSum?: number;
  readonly valuedMemberCount: number;
  readonly valueSumChange30d?: number;
  readonly valueSumChange30dPercent?: number;
}

/** A segment's history between two days: its snapshots and each day's churn. */
export interface SegmentHistory {
  readonly snapshots: readonly Snapshot[];
  readonly churn: readonly ChurnDay[];
}

/**
 * The figures that tell a segment's story: a daily snapshot of every segment's member count,
 * the count's history between two days, and a summary (count now, change over 30 days, last
 * refreshed, next run, last job).
 */
@Injectable()
export class InsightService {
  constructor(
    @Inject(SNAPSHOT_REPOSITORY) private readonly snapshots: SnapshotRepositoryPort,
    @Inject(INSIGHT_SETTINGS) private readonly settings: InsightSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly counts: MemberCounts,
    private readonly catalogue: SegmentCatalogue,
    private readonly jobs: JobsService,
    private readonly schedules: SchedulesService,
    private readonly churn: ChurnService,
  ) {}

  /** Takes the day's snapshot of every segment once its time has come (a missed one once). */
  async snapshotIfDue(): Promise<boolean> {
    const now = this.clock.now();
    const last = (await this.snapshots.lastRunMs()) ?? now.getTime() - DAY_MS - 1;
    const due = dueTick(this.settings.snapshotSchedule, new Date(last), now);
    if (!due) return false;
    await this.takeSnapshot();
    await this.snapshots.setLastRun(due.getTime());
    return true;
  }

  /** Every segment's member count now, as today's snapshot. */
  async takeSnapshot(): Promise<void> {
    const takenAtMs = this.clock.now().getTime();
    const day = dayOf(takenAtMs);
    const snapshots: Snapshot[] = [];
    for (const segment of this.catalogue.all()) {
      const count = this.counts.of(segment.id);
      if (!count) continue;
      const value = valueOf(segment, count);
      snapshots.push({
        segmentId: segment.id,
        day,
        memberCount: count.memberCount,
        ...(value ? { valueSum: value.sum, valueTrait: value.trait } : {}),
        takenAtMs,
      });
    }
    await this.snapshots.save(snapshots);
  }

  async history(
    { segmentId, fromDay, toDay }: { segmentId: string; fromDay: string; toDay: string },
    principal: Principal,
  ): Promise<SegmentHistory> {
    if (!(await this.catalogue.visibleNow(segmentId, principal)))
      throw InsightError.segmentNotFound(segmentId);
    const from = parseDay(fromDay, 'fromDay');
    const to = parseDay(toDay, 'toDay');
    if (to < from) throw InsightError.invalid('toDay', 'must not be before fromDay');
    const days = Math.round((to - from) / DAY_MS) + 1;
    if (days > MAX_HISTORY_DAYS)
      throw InsightError.invalid(
        'toDay',
        `is ${days} days from fromDay; at most ${MAX_HISTORY_DAYS}`,
      );
    const range = daysBetween(from, to);
    const [snapshots, churn] = await Promise.all([
      this.snapshots.find(segmentId, range),
      this.churn.days(segmentId, range),
    ]);
    return { snapshots, churn };
  }

  async summary(segmentId: string, principal: Principal): Promise<SegmentSummary> {
    const segment = await this.catalogue.visibleNow(segmentId, principal);
    if (!segment) throw InsightError.segmentNotFound(segmentId);
    const now = this.clock.now().getTime();
    const count = this.counts.of(segmentId);
    const memberCount = count?.memberCount ?? 0;
    const value = count && valueOf(segment, count);
    const [before] = await this.snapshots.find(segmentId, [dayOf(now - 30 * DAY_MS)]);
    const jobs = await this.jobs.segmentJobs(segmentId);
    const nextRunAt = await this.schedules.nextRun(segment);
    const churn = await this.churn.days(
      segmentId,
      daysBetween(now - (CHURN_SUMMARY_DAYS - 1) * DAY_MS, now),
    );
    return {
      segmentId,
      memberCount,
      ...(before
        ? {
            change30d: memberCount - before.memberCount,
            ...(before.memberCount > 0
              ? {
                  change30dPercent: ((memberCount - before.memberCount) / before.memberCount) * 100,
                }
              : {}),
          }
        : {}),
      ...(count?.lastRefreshedAtMs === undefined
        ? {}
        : { lastRefreshedAtMs: count.lastRefreshedAtMs }),
      ...(nextRunAt ? { nextRunAt } : {}),
      ...(jobs.lastJobStatus === undefined ? {} : { lastJobStatus: jobs.lastJobStatus }),
      state: count?.state ?? SegmentState.COMPUTING,
      entered30d: churn.reduce((n, d) => n + d.entered, 0),
      exited30d: churn.reduce((n, d) => n + d.exited, 0),
      valueTrait: segment.valueTrait,
      valuedMemberCount: value?.valued ?? 0,
      ...(value ? { valueSum: value.sum } : {}),
      ...(value && before?.valueSum !== undefined && before.valueTrait === value.trait
        ? {
            valueSumChange30d: value.sum - before.valueSum,
            ...(before.valueSum !== 0
              ? {
                  valueSumChange30dPercent:
                    ((value.sum - before.valueSum) / Math.abs(before.valueSum)) * 100,
                }
              : {}),
          }
        : {}),
    };
  }
}

/** The value sum membership reports for the value trait the segment names now, if any. */
function valueOf(segment: Segment, count: SegmentCount) {
  return segment.valueTrait !== '' && count.value?.trait === segment.valueTrait
    ? count.value
    : undefined;
}

function parseDay(day: string, field: string): number {
  const ms = DAY.test(day) ? Date.parse(`${day}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || dayOf(ms) !== day)
    throw InsightError.invalid(field, 'must be a day as YYYY-MM-DD');
  return ms;
}
