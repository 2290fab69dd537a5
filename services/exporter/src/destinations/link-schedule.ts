import type { FieldViolation } from '@shoal/platform';
import { CronExpressionParser } from 'cron-parser';

/** A full link's schedule: a cron expression read in an IANA time zone ("" is UTC). */
export interface LinkSchedule {
  readonly cron: string;
  readonly timeZone: string;
}

const CRON_MAX_LENGTH = 200;
/** More than any daylight-saving shift (at most an hour; half an hour in a few zones). */
const DST_MARGIN_MS = 3 * 60 * 60 * 1000;

/** Why a schedule cannot be used, at `schedule` and `timeZone`, or nothing. */
export function scheduleViolations(schedule: LinkSchedule): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (schedule.timeZone && !isTimeZone(schedule.timeZone))
    violations.push({
      field: 'timeZone',
      description: `"${schedule.timeZone.slice(0, 64)}" is not an IANA time zone (e.g. Europe/Paris)`,
    });
  const cron = schedule.cron.trim();
  const fields = cron.split(/\s+/).filter(Boolean).length;
  if (cron.length > CRON_MAX_LENGTH)
    violations.push({ field: 'schedule', description: `at most ${CRON_MAX_LENGTH} characters` });
  else if (fields !== 5 && fields !== 6)
    violations.push({
      field: 'schedule',
      description:
        'needs five fields (minute hour day-of-month month day-of-week), e.g. "0 6 * * *"',
    });
  else {
    try {
      CronExpressionParser.parse(cron, { tz: 'UTC' });
    } catch (error) {
      violations.push({
        field: 'schedule',
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

function ticksFrom(schedule: LinkSchedule, from: Date) {
  return CronExpressionParser.parse(schedule.cron.trim(), {
    currentDate: from,
    tz: schedule.timeZone || 'UTC',
  });
}

/**
 * The slot to run now: the latest tick in (after, now], or none. However many ticks passed while
 * nothing ran (the exporter was down), this is one slot, so missed ticks run once.
 */
export function dueSlot(schedule: LinkSchedule, after: Date, now: Date): Date | undefined {
  if (now.getTime() <= after.getTime()) return undefined;
  // prev() only says where to start looking (it is unreliable around daylight-saving changes);
  // next() decides, as it is what nextSlot shows
  const near = ticksFrom(schedule, new Date(now.getTime() + 1))
    .prev()
    .getTime();
  const ticks = ticksFrom(schedule, new Date(Math.max(after.getTime(), near - DST_MARGIN_MS)));
  let latest: Date | undefined;
  for (let tick = ticks.next().toDate(); tick.getTime() <= now.getTime();) {
    latest = tick;
    tick = ticks.next().toDate();
  }
  return latest && latest.getTime() > after.getTime() ? latest : undefined;
}

/** The first tick strictly after `from`. */
export function nextSlot(schedule: LinkSchedule, from: Date): Date {
  return ticksFrom(schedule, from).next().toDate();
}
