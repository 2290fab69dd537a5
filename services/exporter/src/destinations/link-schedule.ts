import {
  type CronSchedule,
  type FieldViolation,
  dueTick,
  isTimeZone,
  nextTicks,
} from '@shoal/platform';
import { CronExpressionParser } from 'cron-parser';

/** A full link's schedule: a cron expression read in an IANA time zone ("" is UTC). */
export type LinkSchedule = CronSchedule;

const CRON_MAX_LENGTH = 200;

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

/**
 * The slot to run now: the latest tick in (after, now], or none. However many ticks passed while
 * nothing ran (the exporter was down), this is one slot, so missed ticks run once.
 */
export function dueSlot(schedule: LinkSchedule, after: Date, now: Date): Date | undefined {
  return dueTick(schedule, after, now);
}

/** The first tick strictly after `from`. */
export function nextSlot(schedule: LinkSchedule, from: Date): Date {
  return nextTicks(schedule, from, 1)[0] as Date;
}
