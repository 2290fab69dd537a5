import { Inject, Injectable } from '@nestjs/common';
import { create } from '@bufbuild/protobuf';
import {
  RefreshMode,
  RefreshPolicySchema,
  type Segment,
  SegmentKind,
  SegmentState,
} from '@shoal/contracts';
import {
  CLOCK,
  type Clock,
  DomainError,
  ErrorKind,
  type FieldViolation,
  LOGGER,
  type Logger,
  type Principal,
} from '@shoal/platform';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { SegmentCatalogue, isActive } from '../definitions/segment-catalogue';
import { JobsService } from '../jobs/jobs.service';
import { type CronSchedule, dueTick, nextTicks, scheduleViolations } from './schedule';
import {
  type OnBehalfOf,
  SEGMENT_DEFINITIONS,
  type SegmentDefinitionsPort,
} from './segment-definitions.port';
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

/** How often a segment's schedule is read and set again when someone else changed it meanwhile. */
const SET_ATTEMPTS = 3;

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
    @Inject(SEGMENT_DEFINITIONS) private readonly definitions: SegmentDefinitionsPort,
    private readonly catalogue: SegmentCatalogue,
    private readonly jobs: JobsService,
  ) {}

  async defaultSchedule(): Promise<CronSchedule> {
    return (await this.schedules.defaultSchedule()) ?? this.settings.defaultSchedule;
  }

  async get(segmentId: string, principal: Principal): Promise<SegmentSchedule> {
    const fallback = await this.defaultSchedule();
    if (!segmentId)
      return {
        mode: RefreshMode.SCHEDULED,
        schedule: fallback,
        isDefault: true,
        nextRuns: nextTicks(fallback, this.clock.now(), NEXT_RUNS),
      };
    const segment = await this.catalogue.visibleNow(segmentId, principal);
    if (!segment) throw ScheduleError.segmentNotFound(segmentId);
    return this.scheduleOf(segment, fallback);
  }

  /**
   * Sets the global default (segmentId empty), or a SCHEDULED segment's own schedule (an empty
   * cron: none, it follows the default). A segment's schedule is its definition's refresh
   * policy: it is changed where definitions are kept, as the caller, and the answer is computed
   * from the version that made, not from the definitions topic (which follows later).
   */
  async set(
    segmentId: string,
    schedule: CronSchedule,
    caller: OnBehalfOf,
  ): Promise<SegmentSchedule> {
    const given = { cron: schedule.cron.trim(), timeZone: schedule.timeZone.trim() };
    if (segmentId) return this.setOwn(segmentId, given, caller);
    const { principal } = caller;
    const admin =
      principal.kind === 'service' ||
      principal.groups.some((g) => this.settings.adminGroups.includes(g));
    if (!admin) throw ScheduleError.notAdministrator();
    const violations = scheduleViolations(given);
    if (violations.length > 0) throw ScheduleError.invalid(violations);
    await this.schedules.setDefaultSchedule(given, principal.subject, this.clock.now().getTime());
    this.next.clear();
    return this.get('', principal);
  }

  private async setOwn(
    segmentId: string,
    given: CronSchedule,
    caller: OnBehalfOf,
  ): Promise<SegmentSchedule> {
    const violations = ownScheduleViolations(given);
    if (violations.length > 0) throw ScheduleError.invalid(violations);
    const refresh = create(RefreshPolicySchema, { mode: RefreshMode.SCHEDULED, ...given });
    for (let attempt = 1; ; attempt++) {
      const segment = await this.definitions.get(segmentId, caller);
      const mode = modeOf(segment);
      if (segment.kind !== SegmentKind.DYNAMIC || mode !== RefreshMode.SCHEDULED)
        throw ScheduleError.notScheduled(segmentId, describeMode(segment));
      try {
        const updated = await this.definitions.setRefresh(segment, refresh, caller);
        return this.scheduleOf(updated, await this.defaultSchedule());
      } catch (error) {
        // someone else changed the segment since it was read: read it again (its mode may be
        // another now) and set the schedule on that version
        const conflict = error instanceof DomainError && error.kind === ErrorKind.Aborted;
        if (!conflict || attempt >= SET_ATTEMPTS) throw error;
      }
    }
  }

  /** Where a segment's schedule stands: the one that applies, and its next runs if it runs. */
  private scheduleOf(segment: Segment, fallback: CronSchedule): SegmentSchedule {
    const mode = modeOf(segment);
    if (segment.kind !== SegmentKind.DYNAMIC || mode !== RefreshMode.SCHEDULED)
      return { mode, isDefault: false, nextRuns: [] };
    const own = ownSchedule(segment);
    const schedule = own ?? fallback;
    return {
      mode,
      schedule,
      isDefault: own === undefined,
      nextRuns:
        isScheduled(segment) && isActive(segment)
          ? nextTicks(schedule, this.clock.now(), NEXT_RUNS)
          : [],
    };
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

/** A segment's refresh mode (unspecified is REALTIME). */
function modeOf(segment: Segment): RefreshMode {
  return segment.refresh?.mode || RefreshMode.REALTIME;
}

function describeMode(segment: Segment): 'REALTIME' | 'MANUAL' | 'a static list' {
  if (segment.kind === SegmentKind.STATIC_LIST) return 'a static list';
  return modeOf(segment) === RefreshMode.MANUAL ? 'MANUAL' : 'REALTIME';
}

/**
 * Why a segment's own schedule cannot be used: the rules of the default, except that an empty
 * cron (with no time zone) means "none of its own".
 */
function ownScheduleViolations(schedule: CronSchedule): FieldViolation[] {
  if (schedule.cron) return scheduleViolations(schedule);
  if (!schedule.timeZone) return [];
  return [
    {
      field: 'schedule.timeZone',
      description:
        'is read with a cron of the segment’s own; leave both empty to follow the default schedule',
    },
  ];
}

function ownSchedule(segment: Segment): CronSchedule | undefined {
  const cron = segment.refresh?.cron.trim() ?? '';
  if (!cron) return undefined;
  // the segments service validated it (a tick that still cannot parse it fails alone, logged)
  return { cron, timeZone: segment.refresh?.timeZone ?? '' };
}
