import type { JsonValue } from '@bufbuild/protobuf';

// Dates as they are written in traits, event properties and rule operands: which strings and
// numbers are dates, and what they say. Turning a reading of a zone's clock into an instant is
// the time zone's business, not this file's.

export interface CivilDate {
  readonly year: number;
  /** 1 to 12. */
  readonly month: number;
  /** 1 to 31. */
  readonly day: number;
}

/**
 * A date value as written: an exact instant (an offset or "Z", or milliseconds since the epoch),
 * a calendar date (the start of that day in the rule's zone), or a wall-clock date-time without
 * an offset (a reading of the rule's zone's clock). `ms` is the time of day in milliseconds.
 */
export type DateValue =
  | { readonly kind: 'instant'; readonly at: number }
  | { readonly kind: 'date'; readonly date: CivilDate }
  | { readonly kind: 'wall'; readonly date: CivilDate; readonly ms: number };

/** Milliseconds since the epoch of a UTC date-time; unlike Date.UTC, years 0-99 mean themselves. */
export function utcMs(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** A "YYYY-MM-DD" calendar date, or undefined when the string is not a real date. */
export function parseCivilDate(text: string): CivilDate | undefined {
  const match = DATE.exec(text);
  if (match === null) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isRealDate(date) ? date : undefined;
}

function isRealDate({ year, month, day }: CivilDate): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Reads a date value: a number of milliseconds since the epoch, or an ISO 8601 string (a date,
 * or a date-time with or without an offset). Anything else is not a date.
 */
export function readDateValue(value: JsonValue | undefined): DateValue | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && Math.abs(value) < 8.64e15
      ? { kind: 'instant', at: value }
      : undefined;
  if (typeof value !== 'string') return undefined;
  const date = parseCivilDate(value);
  if (date !== undefined) return { kind: 'date', date };
  const match = DATE_TIME.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((index) => Number(match[index]));
  const second = match[6] === undefined ? 0 : Number(match[6]);
  const fraction = match[7] === undefined ? 0 : Math.floor(Number(`0.${match[7]}`) * 1000);
  const civil = { year: year as number, month: month as number, day: day as number };
  if (!isRealDate(civil) || (hour as number) > 23 || (minute as number) > 59 || second > 59) {
    return undefined;
  }
  const ms = (((hour as number) * 60 + (minute as number)) * 60 + second) * 1000 + fraction;
  const zone = match[8];
  if (zone === undefined) return { kind: 'wall', date: civil, ms };
  const sign = zone === 'Z' || zone === 'z' ? 0 : zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
  return { kind: 'instant', at: utcMs(civil.year, civil.month, civil.day) + ms - sign * offset };
}
