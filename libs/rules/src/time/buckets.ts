import type { JsonValue } from '@bufbuild/protobuf';
import { readDateValue, utcMs, type CivilDate } from '../language/dates';
import { assertNever } from '../language/errors';
import { DAY_MS, HOUR_MS, MINUTE_MS, civilFromDayIndex, dayIndexFromCivil } from './calendar';
import { instantFromWall, nextOffsetChange, wallTime, zoneOffset } from './zone';

// Buckets: the minutes, wall-clock hours and calendar periods of a zone that event aggregates
// and windows are counted in, and the instants at which dates and wall-clock readings start.

/** The calendar units of periods and of day-or-longer buckets. */
export type CalendarUnit = 'day' | 'week' | 'month' | 'quarter' | 'year';

/**
 * The granularity in which event aggregates are kept. Minutes are UTC minutes (every zone in
 * use today is offset by whole minutes, so they are also the zone's minutes); hours are the
 * zone's wall-clock hours (the repeated hour of a DST fall-back is one bucket, the skipped hour
 * of a spring-forward an empty one); days, weeks (from Monday), months, quarters and years are
 * the zone's calendar periods.
 */
export type BucketUnit = 'minute' | 'hour' | CalendarUnit;

/**
 * Which bucket of `unit` an instant falls in: an integer that grows with time, except where a
 * clock falls back across a bucket boundary (Pacific/Chatham goes from 03:45 back to 02:45, so
 * its hour 03:00 is followed by 02:00 again for a quarter of an hour; a few zones fall back two
 * or three hours). Days and longer periods have not gone back in any zone since 2011.
 */
export function bucketIndex(unit: BucketUnit, instant: number, timeZone: string): number {
  if (unit === 'minute') return Math.floor(instant / MINUTE_MS);
  const wall = wallTime(timeZone, instant);
  if (unit === 'hour') return Math.floor(wall / HOUR_MS);
  const day = Math.floor(wall / DAY_MS);
  switch (unit) {
    case 'day':
      return day;
    case 'week':
      return Math.floor((day + 3) / 7);
    case 'month':
    case 'quarter':
    case 'year': {
      const { year, month } = civilFromDayIndex(day);
      if (unit === 'month') return year * 12 + month - 1;
      if (unit === 'quarter') return year * 4 + Math.floor((month - 1) / 3);
      return year;
    }
    default:
      return assertNever(unit, 'bucket unit');
  }
}

/** The wall-clock reading at which bucket `index` of `unit` starts. */
function bucketWallStart(unit: Exclude<BucketUnit, 'minute'>, index: number): number {
  switch (unit) {
    case 'hour':
      return index * HOUR_MS;
    case 'day':
      return index * DAY_MS;
    case 'week':
      return (index * 7 - 3) * DAY_MS;
    case 'month': {
      const year = Math.floor(index / 12);
      return utcMs(year, index - year * 12 + 1, 1);
    }
    case 'quarter': {
      const year = Math.floor(index / 4);
      return utcMs(year, (index - year * 4) * 3 + 1, 1);
    }
    case 'year':
      return utcMs(index, 1, 1);
    default:
      return assertNever(unit, 'bucket unit');
  }
}

/** More than any offset from UTC a zone has had. */
const ZONE_REACH_MS = 16 * HOUR_MS;

/**
 * The first instant that falls in bucket `index` of `unit` or a later one: walking from before
 * any clock could read the bucket's start, through each offset change on the way.
 */
export function bucketStart(unit: BucketUnit, index: number, timeZone: string): number {
  if (unit === 'minute') return index * MINUTE_MS;
  let at = bucketWallStart(unit, index) - ZONE_REACH_MS;
  while (bucketIndex(unit, at, timeZone) >= index) at -= ZONE_REACH_MS;
  do at = bucketReachedAfter(unit, index, at, timeZone);
  while (bucketIndex(unit, at, timeZone) < index);
  return at;
}

/**
 * The first instant after `from` at which the bucket index of `unit` reaches `index` (greater
 * than the index at `from`) if the zone's offset stays as it is at `from`; or the zone's first
 * offset change before that, after which the index may have jumped either way and the caller
 * must ask again.
 */
export function bucketReachedAfter(
  unit: BucketUnit,
  index: number,
  from: number,
  timeZone: string,
): number {
  if (unit === 'minute') return index * MINUTE_MS;
  const reached = bucketWallStart(unit, index) - zoneOffset(timeZone, from);
  return nextOffsetChange(timeZone, from, reached) ?? reached;
}

/**
 * How soon after an instant a fall-back can take the clock into an earlier bucket: within the
 * length of the fall-back, at most three hours since 2020 (seven hours since 1970, in
 * Antarctica/Vostok), so a day covers every one.
 */
export const FALL_BACK_REACH_MS = DAY_MS;

/** The lowest bucket index of `unit` at `now` or later (lower than now's when the clock soon falls back). */
export function lowestBucketFrom(unit: BucketUnit, now: number, timeZone: string): number {
  let lowest = bucketIndex(unit, now, timeZone);
  if (unit === 'minute') return lowest;
  for (
    let change = nextOffsetChange(timeZone, now, now + FALL_BACK_REACH_MS);
    change !== undefined;
    change = nextOffsetChange(timeZone, change, now + FALL_BACK_REACH_MS)
  ) {
    lowest = Math.min(lowest, bucketIndex(unit, change, timeZone));
  }
  return lowest;
}

/** The zone's calendar date at an instant. */
export function civilDateAt(timeZone: string, instant: number): CivilDate {
  return civilFromDayIndex(Math.floor(wallTime(timeZone, instant) / DAY_MS));
}

/** The instant at which a calendar date starts in a zone. */
export function startOfCivilDate(date: CivilDate, timeZone: string): number {
  return bucketStart('day', dayIndexFromCivil(date), timeZone);
}

/**
 * Reads an instant from a trait or property value (see readDateValue). A date-only string is
 * the start of that day in `timeZone`; a date-time without an offset is a wall-clock time in
 * `timeZone`. Anything else is not an instant.
 */
export function parseInstant(value: JsonValue | undefined, timeZone: string): number | undefined {
  const read = readDateValue(value);
  switch (read?.kind) {
    case undefined:
      return undefined;
    case 'instant':
      return read.at;
    case 'date':
      return startOfCivilDate(read.date, timeZone);
    case 'wall':
      return instantFromWall(
        timeZone,
        utcMs(read.date.year, read.date.month, read.date.day) + read.ms,
      );
    default:
      return assertNever(read, 'date value');
  }
}
