import { CronExpressionParser } from 'cron-parser';

/** A cron expression read in an IANA time zone ("" is UTC). */
export interface CronSchedule {
  readonly cron: string;
  readonly timeZone: string;
}

/** More than any daylight-saving shift (at most an hour; half an hour in a few zones). */
const DST_MARGIN_MS = 3 * 60 * 60 * 1000;

/** Whether the runtime's time-zone database knows `zone`. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function ticksFrom(schedule: CronSchedule, from: Date) {
  return CronExpressionParser.parse(schedule.cron.trim(), {
    currentDate: from,
    tz: schedule.timeZone || 'UTC',
  });
}

/**
 * The tick to run now: the latest one in (after, now], or none. However many ticks passed while
 * nothing ran (the process was down), this is one tick, so a missed schedule runs once.
 * Wall-clock times a daylight-saving jump skips run once just after it; times it repeats run
 * once, at their first occurrence.
 */
export function dueTick(schedule: CronSchedule, after: Date, now: Date): Date | undefined {
  if (now.getTime() <= after.getTime()) return undefined;
  // cron-parser's prev() and next() disagree around daylight-saving changes (prev() misses the
  // shifted spring tick and finds the repeated autumn one), so prev() only says where to start
  // and next() decides: it is what nextTicks shows users.
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

/** The next `count` ticks strictly after `from`. */
export function nextTicks(schedule: CronSchedule, from: Date, count: number): Date[] {
  const ticks = ticksFrom(schedule, from);
  return Array.from({ length: count }, () => ticks.next().toDate());
}
