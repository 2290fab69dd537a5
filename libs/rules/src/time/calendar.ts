import { daysInMonth, utcMs, type CivilDate } from '../language/dates';

// Civil calendar arithmetic on day indexes (days since 1970-01-01): no time zone involved.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function civilFromDayIndex(dayIndex: number): CivilDate {
  const date = new Date(dayIndex * DAY_MS);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

export function dayIndexFromCivil({ year, month, day }: CivilDate): number {
  return Math.round(utcMs(year, month, day) / DAY_MS);
}

/** Adds calendar months, clamping the day to the target month's length (31 Mar - 1 = 29 Feb). */
export function addMonths(date: CivilDate, months: number): CivilDate {
  const total = date.year * 12 + (date.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  return { year, month, day: Math.min(date.day, daysInMonth(year, month)) };
}
