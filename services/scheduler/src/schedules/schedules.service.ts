import { Inject, Injectable } from '@nestjs/common';
import { RefreshMode, type Segment, SegmentKind, SegmentState } from '@shoal/contracts';
import { CLOCK, type Clock, LOGGER, type Logger, type Principal } from '@shoal/platform';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { SegmentCatalogue, isActive } from '../definitions/segment-catalogue';
import { JobsService } from '../jobs/jobs.service';
import { type CronSchedule, dueTick, nextTicks, scheduleViolations } from './schedule';
import { ScheduleError } from './schedules.errors';
import { SCHEDULE_REPOSITORY, type ScheduleRepositoryPort } from './schedules.repository.port';

export const SCHEDULE_SETTINGS = Symbol('ScheduleSettings');

export interface ScheduleSettings {
  /** The default schedule until someone sets one (SCHEDULER_DEFAULT_CRON / _TIME_ZONE). */
  readonly defaultSchedule: CronSchedule;
  /** Groups whose users may change the default schedule (services always may). */
  readonly adminGroups: readonly string[];
}

/** Where a segment's schedule stands. */
export interface SegmentSchedule {
  readonly mode: RefreshMode;
  /** Undefined for segments that are not SCHEDULED. */
  readonly schedule?: CronSchedule;
  readonly isDefault: boolean;
  readonly nextRuns: Date[];
}

/** A scheduled segment's next tick, computed once per schedule and baseline (cron is not free). */
interface NextTick {
  readonly key: string;
  readonly atMs: number;
}

const NEXT_RUNS = 5;

/**
 * Schedules: the global default and each SCHEDULED segment's own cron, and firing their ticks.
 * Ticks are fired by one scheduler instance at a time (the lease, see ticker.ts), and each tick
 * is one job whatever happens (its id is the segment and the tick). A tick missed while no
 * scheduler ran fires once, for the latest missed instant.
 */
@Injectable()
export class SchedulesService {
  private readonly next = new Map<string, NextTick>();

  constructor(
    @Inject(SCHEDULE_REPOSITORY) private readonly schedules: ScheduleRepositoryPort,
    @Inject(SCHEDULE_SETTINGS) private readonly settings: ScheduleSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly catalogue: SegmentCatalogue,
    private readonly jobs: JobsService,
  ) {}

  async defaultSchedule(): Promise<CronSchedule> {
    return (await this.schedules.defaultSchedule()) ?? this.settings.defaultSchedule;
  }

  async get(segmentId: string, principal: Principal): Promise<SegmentSchedule> {
    const fallback = await this.defaultSchedule();
    const now = this.clock.now();
    if (!segmentId)
      return {
        mode: RefreshMode.SCHEDULED,
        schedule: fallback,
        isDefault: true,
        nextRuns: nextTicks(fallback, now, NEXT_RUNS),
      };
    const segment = this.catalogue.visible(segmentId, principal);
    if (!segment) throw ScheduleError.segmentNotFound(segmentId);
    const mode = segment.refresh?.mode || RefreshMode.REALTIME;
    if (!isScheduled(segment)) return { mode, isDefault: false, nextRuns: [] };
    const own = ownSchedule(segment);
    const schedule = own ?? fallback;
    return {
      mode,
      schedule,
      isDefault: own === undefined,
      nextRuns: isActive(segment) ? nextTicks(schedule, now, NEXT_RUNS) : [],
    };
  }

  async set(
    segmentId: string,
    schedule: CronSchedule,
    principal: Principal,
  ): Promise<SegmentSchedule> {
    if (segmentId) {
      if (!this.catalogue.visible(segmentId, principal))
        throw ScheduleError.segmentNotFound(segmentId);
      throw ScheduleError.setOnSegment(segmentId);
    }
    const admin =
      principal.kind === 'service' ||
      principal.groups.some((g) => this.settings.adminGroups.includes(g));
    if (!admin) throw ScheduleError.notAdministrator();
    const given = { cron: schedule.cron.trim(), timeZone: schedule.timeZone.trim() };
    const violations = scheduleViolations(given);
    if (violations.length > 0) throw ScheduleError.invalid(violations);
    await this.schedules.setDefaultSchedule(given, principal.subject, this.clock.now().getTime());
    this.next.clear();
    return this.get('', principal);
  }

  /** The next run of a segment, or undefined when it is not scheduled (or inactive). */
  async nextRun(segment: Segment): Promise<Date | undefined> {
    if (!isScheduled(segment) || !isActive(segment)) return undefined;
    const schedule = ownSchedule(segment) ?? (await this.defaultSchedule());
    return nextTicks(schedule, this.clock.now(), 1)[0];
  }

  /** Fires every scheduled segment's due tick (one job each). */
  async tick(): Promise<void> {
    const now = this.clock.now();
    const fallback = await this.defaultSchedule();
    const scheduled = this.catalogue.all().filter(isScheduled);
    const known = new Set(scheduled.map((s) => s.id));
    for (const id of this.next.keys()) if (!known.has(id)) this.next.delete(id);
    for (const segment of scheduled) {
      try {
        await this.tickOf(segment, fallback, now);
      } catch (error) {
        this.logger.error({ err: error, segmentId: segment.id }, 'a schedule tick failed');
      }
    }
  }

  private async tickOf(segment: Segment, fallback: CronSchedule, now: Date): Promise<void> {
    const schedule = ownSchedule(segment) ?? fallback;
    const key = `${schedule.cron}\u0000${schedule.timeZone}`;
    const cached = this.next.get(segment.id);
    if (cached && cached.key === key && cached.atMs > now.getTime()) return;
    const { lastTickMs } = await this.jobs.segmentJobs(segment.id);
    // a segment never ticked counts its ticks from its creation
    const baseline =
      lastTickMs ?? (segment.createdAt ? timestampMs(segment.createdAt) : now.getTime());
    const due = dueTick(schedule, new Date(baseline), now);
    if (due) {
      await this.jobs.tick(segment, due.getTime());
      await this.jobs.setLastTick(segment.id, due.getTime());
    }
    const after = due ?? new Date(Math.max(baseline, now.getTime()));
    this.next.set(segment.id, {
      key,
      atMs: nextTicks(schedule, after, 1)[0]?.getTime() ?? Infinity,
    });
  }

  /** Forgets cached next ticks (another instance may have fired them while this one did not). */
  forget(): void {
    this.next.clear();
  }
}

/** A dynamic SCHEDULED segment past its draft (drafts are not computed). */
function isScheduled(segment: Segment): boolean {
  return (
    segment.kind === SegmentKind.DYNAMIC &&
    segment.refresh?.mode === RefreshMode.SCHEDULED &&
    segment.state !== SegmentState.DRAFT
  );
}

function ownSchedule(segment: Segment): CronSchedule | undefined {
  const cron = segment.refresh?.cron.trim() ?? '';
  if (!cron) return undefined;
  // the segments service validated it (a tick that still cannot parse it fails alone, logged)
  return { cron, timeZone: segment.refresh?.timeZone ?? '' };
}
