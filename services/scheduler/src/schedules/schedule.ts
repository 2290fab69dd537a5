import type { FieldViolation } from '@shoal/platform';
import { CronExpressionParser } from 'cron-parser';

/** A five-field cron expression read in an IANA time zone ("" is UTC). */
export interface CronSchedule {
  readonly cron: string;
  readonly timeZone: string;
}

/** Every 4 hours on the hour, UTC: what SCHEDULED segments without a cron of their own follow. */
export const DEFAULT_SCHEDULE: CronSchedule = { cron: '0 */4 * * *', timeZone: '' };

const CRON_MAX_LENGTH = 200;

/** Why a schedule cannot be used, each at its field (`cron`, `timeZone`), or nothing. */
export function scheduleViolations(schedule: CronSchedule, at = 'schedule'): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (schedule.timeZone && !isTimeZone(schedule.timeZone))
    violations.push({
      field: `${at}.timeZone`,
      description: `"${schedule.timeZone.slice(0, 64)}" is not an IANA time zone (e.g. Europe/Paris)`,
    });
  const cron = schedule.cron.trim();
  if (cron.length > CRON_MAX_LENGTH) {
    violations.push({
      field: `${at}.cron`,
      description: `is ${cron.length} characters; a cron expression has at most ${CRON_MAX_LENGTH}`,
    });
  } else if (cron.split(/\s+/).filter(Boolean).length !== 5) {
    violations.push({
      field: `${at}.cron`,
      description:
        'needs five fields: minute hour day-of-month month day-of-week, e.g. "0 */4 * * *"',
    });
  } else {
    try {
      CronExpressionParser.parse(cron, { tz: 'UTC' });
    } catch (error) {
      violations.push({
        field: `${at}.cron`,
        description: `is not a valid cron expression: ${(error as Error).message}`,
      });
    }
  }
  return violations;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function parse(schedule: CronSchedule, from: Date) {
  return CronExpressionParser.parse(schedule.cron.trim(), {
    currentDate: from,
    tz: schedule.timeZone || 'UTC',
  });
}

/**
 * The tick to run now: the latest one in (after, now], or none. However many ticks passed while
 * nothing ran (the scheduler was down), this is one tick, so a missed schedule runs once.
 * Wall-clock times a daylight-saving jump skips run once just after it; times it repeats run
 * once, at their first occurrence.
 */
export function dueTick(schedule: CronSchedule, after: Date, now: Date): Date | undefined {
  if (now.getTime() <= after.getTime()) return undefined;
  // cron-parser's prev() and next() disagree around daylight-saving changes (prev() misses the
  // shifted spring tick and finds the repeated autumn one), so prev() only says where to start
  // and next() decides: it is what nextTicks shows users.
  const near = parse(schedule, new Date(now.getTime() + 1))
    .prev()
    .getTime();
  const ticks = parse(schedule, new Date(Math.max(after.getTime(), near - DST_MARGIN_MS)));
  let latest: Date | undefined;
  for (let tick = ticks.next().toDate(); tick.getTime() <= now.getTime();) {
    latest = tick;
    tick = ticks.next().toDate();
  }
  return latest && latest.getTime() > after.getTime() ? latest : undefined;
}

/** More than any daylight-saving shift (at most an hour; half an hour in a few zones). */
const DST_MARGIN_MS = 3 * 60 * 60 * 1000;

/** The next `count` ticks strictly after `from`. */
export function nextTicks(schedule: CronSchedule, from: Date, count: number): Date[] {
  const ticks = parse(schedule, from);
  return Array.from({ length: count }, () => ticks.next().toDate());
}
