import type { CalendarPeriod, Window } from '@shoal/contracts';
import type { JsonValue } from '@bufbuild/protobuf';
import { daysInMonth, readDateValue, utcMs, type CivilDate } from '../language/dates';
import { RuleError, RuleErrorCode, assertNever } from '../language/errors';

// Calendar and bucket arithmetic in a rule's time zone. An instant is an integer number of
// milliseconds since the epoch; a "wall" time is the same count read on the zone's clock
// (instant + offset), so wall-clock fields can be read with the UTC getters of Date.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

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

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True for a time zone name the runtime knows (IANA names, "UTC", fixed "Etc/GMT+5"). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The runtime's canonical spelling of a zone ("" and "Etc/UTC" become "UTC"). */
export function canonicalTimeZone(timeZone: string): string {
  if (timeZone === '' || timeZone === 'UTC') return 'UTC';
  if (!isValidTimeZone(timeZone)) {
    throw new RuleError(RuleErrorCode.InvalidArgument, `unknown time zone "${timeZone}"`);
  }
  const resolved = formatterFor(timeZone).resolvedOptions().timeZone;
  return resolved === 'Etc/UTC' || resolved === 'Etc/GMT' ? 'UTC' : resolved;
}

function computeOffset(timeZone: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(whole)) fields[part.type] = part.value;
  const yearOfEra = Number(fields['year']);
  const year = fields['era'] === 'BC' || fields['era'] === 'B' ? 1 - yearOfEra : yearOfEra;
  const wall = utcMs(
    year,
    Number(fields['month']),
    Number(fields['day']),
    Number(fields['hour']),
    Number(fields['minute']),
    Number(fields['second']),
  );
  return wall - whole;
}

const OFFSET_BLOCK_MS = 15 * MINUTE_MS;
const MAX_CACHED_BLOCKS_PER_ZONE = 200_000;
/** Zone to block index to offset, for the blocks known to have one offset throughout. */
const offsetCache = new Map<string, Map<number, number>>();

/**
 * The zone's offset from UTC at an instant, in milliseconds. Offsets are cached per 15-minute
 * block, and only for blocks whose start and end agree (so a transition inside a block is
 * never hidden by the cache).
 */
export function zoneOffset(timeZone: string, instant: number): number {
  if (timeZone === 'UTC') return 0;
  if (!Number.isFinite(instant)) {
    throw new RuleError(RuleErrorCode.InvalidArgument, `not a finite instant: ${instant}`);
  }
  let blocks = offsetCache.get(timeZone);
  if (blocks === undefined) {
    blocks = new Map();
    offsetCache.set(timeZone, blocks);
  }
  const block = Math.floor(instant / OFFSET_BLOCK_MS);
  const cached = blocks.get(block);
  if (cached !== undefined) return cached;
  const start = block * OFFSET_BLOCK_MS;
  const atStart = computeOffset(timeZone, start);
  const atEnd = computeOffset(timeZone, start + OFFSET_BLOCK_MS - 1);
  if (atStart !== atEnd) return computeOffset(timeZone, instant);
  if (blocks.size > MAX_CACHED_BLOCKS_PER_ZONE) blocks.clear();
  blocks.set(block, atStart);
  return atStart;
}

/** The zone's wall-clock reading of an instant, as milliseconds. */
export function wallTime(timeZone: string, instant: number): number {
  return instant + zoneOffset(timeZone, instant);
}

/**
 * The instant at which the zone's clock reads `wall`. A reading that occurs twice (DST
 * fall-back) gives the earlier instant; a reading skipped by a DST gap gives the instant the
 * clock would show had it not jumped (the instant of the jump plus the time into the gap).
 */
export function instantFromWall(timeZone: string, wall: number): number {
  if (timeZone === 'UTC') return wall;
  const offsets = [
    ...new Set([
      zoneOffset(timeZone, wall - DAY_MS),
      zoneOffset(timeZone, wall),
      zoneOffset(timeZone, wall + DAY_MS),
    ]),
  ];
  const exact = offsets
    .map((offset) => wall - offset)
    .filter((instant) => wallTime(timeZone, instant) === wall);
  if (exact.length > 0) return Math.min(...exact);
  return wall - Math.min(...offsets);
}

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

/** The zone's calendar date at an instant. */
export function civilDateAt(timeZone: string, instant: number): CivilDate {
  return civilFromDayIndex(Math.floor(wallTime(timeZone, instant) / DAY_MS));
}

/** Which bucket of `unit` an instant falls in (an integer that grows with time). */
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

const ZONE_REACH_MS = 15 * HOUR_MS;

/** The first instant that falls in bucket `index` of `unit` or a later one. */
export function bucketStart(unit: BucketUnit, index: number, timeZone: string): number {
  if (unit === 'minute') return index * MINUTE_MS;
  const wall = bucketWallStart(unit, index);
  const guess = wall - zoneOffset(timeZone, wall - zoneOffset(timeZone, wall));
  const reached = (instant: number): boolean => bucketIndex(unit, instant, timeZone) >= index;
  if (reached(guess) && !reached(guess - 1)) return guess;
  let low = wall - ZONE_REACH_MS;
  let high = wall + ZONE_REACH_MS;
  while (reached(low)) low -= ZONE_REACH_MS;
  while (!reached(high)) high += ZONE_REACH_MS;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (reached(middle)) high = middle;
    else low = middle;
  }
  return high;
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

/** The calendar unit and offset of a CalendarPeriod (offset 0: the current period). */
export function calendarPeriodParts(period: CalendarPeriod): {
  unit: CalendarUnit;
  offset: number;
} {
  switch (period.unit.case) {
    case 'day':
    case 'week':
    case 'month':
    case 'quarter':
    case 'year':
      return { unit: period.unit.case, offset: period.unit.value };
    case undefined:
      throw new RuleError(RuleErrorCode.InvalidRule, 'calendar period without a unit');
    default:
      return assertNever(period.unit, 'calendar period');
  }
}

/** The shape of a sliding window over buckets, as a function of the current bucket. */
export type SlidingShape =
  | { readonly kind: 'last'; readonly count: number }
  | { readonly kind: 'months'; readonly count: number }
  | { readonly kind: 'calendar'; readonly offset: number };

/**
 * How an event window reads time. `all`: every event ever. `range`: events in [from, to).
 * `sliding`: the buckets [low, high] of `unit`, a function of the bucket `now` falls in, and
 * `retain` buckets (counting back from the current one, inclusive) always suffice to read it.
 */
export type WindowPlan =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  | {
      readonly kind: 'sliding';
      readonly unit: BucketUnit;
      readonly shape: SlidingShape;
      readonly retain: number;
    };

/**
 * Resolves an absolute range end (`at` or `date`); relative ends are not allowed in windows.
 * Returns undefined for a missing or relative operand.
 */
export type AbsoluteInstantResolver = (
  operand: NonNullable<Extract<Window['span'], { case: 'between' }>['value']['from']>,
) => number | undefined;

export function planWindow({
  window,
  resolveAbsolute,
}: {
  window: Window | undefined;
  resolveAbsolute: AbsoluteInstantResolver;
}): WindowPlan {
  if (window === undefined) return { kind: 'all' };
  const span = window.span;
  switch (span.case) {
    case undefined:
      return { kind: 'all' };
    case 'lastMinutes':
      return sliding('minute', { kind: 'last', count: span.value });
    case 'lastHours':
      return sliding('hour', { kind: 'last', count: span.value });
    case 'lastDays':
      return sliding('day', { kind: 'last', count: span.value });
    case 'lastWeeks':
      return sliding('day', { kind: 'last', count: span.value * 7 });
    case 'lastMonths':
      return sliding('day', { kind: 'months', count: span.value });
    case 'calendar': {
      const { unit, offset } = calendarPeriodParts(span.value);
      return sliding(unit, { kind: 'calendar', offset });
    }
    case 'between': {
      const from = span.value.from === undefined ? undefined : resolveAbsolute(span.value.from);
      const to = span.value.to === undefined ? undefined : resolveAbsolute(span.value.to);
      if (from === undefined || to === undefined) {
        throw new RuleError(RuleErrorCode.InvalidRule, 'a window range needs two absolute ends');
      }
      return { kind: 'range', from, to };
    }
    default:
      return assertNever(span, 'window');
  }
}

function sliding(unit: BucketUnit, shape: SlidingShape): WindowPlan {
  const retain =
    shape.kind === 'last'
      ? shape.count
      : shape.kind === 'months'
        ? 31 * shape.count + 1
        : 1 - shape.offset;
  return { kind: 'sliding', unit, shape, retain };
}

/** The inclusive bucket range [low, high] a sliding window covers at `now`. */
export function windowRangeAt(
  plan: Extract<WindowPlan, { kind: 'sliding' }>,
  now: number,
  timeZone: string,
): [number, number] {
  return windowBucketRange(plan.shape, bucketIndex(plan.unit, now, timeZone));
}

/** The inclusive bucket range [low, high] a sliding window covers when `current` is the bucket of now. */
export function windowBucketRange(shape: SlidingShape, current: number): [number, number] {
  switch (shape.kind) {
    case 'last':
      return [current - shape.count + 1, current];
    case 'months': {
      const start = addMonths(civilFromDayIndex(current), -shape.count);
      return [dayIndexFromCivil(start) + 1, current];
    }
    case 'calendar':
      return [current + shape.offset, current + shape.offset];
    default:
      return assertNever(shape, 'window shape');
  }
}

/** The first current-bucket index at which bucket `bucket` is inside the window. */
export function windowEnterIndex(shape: SlidingShape, bucket: number): number {
  return shape.kind === 'calendar' ? bucket - shape.offset : bucket;
}

/** The first current-bucket index (after it entered) at which bucket `bucket` has left the window. */
export function windowLeaveIndex(shape: SlidingShape, bucket: number): number {
  switch (shape.kind) {
    case 'last':
      return bucket + shape.count;
    case 'calendar':
      return bucket - shape.offset + 1;
    case 'months': {
      let low = bucket;
      let high = bucket + 31 * shape.count + 31;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (windowBucketRange(shape, middle)[0] > bucket) high = middle;
        else low = middle;
      }
      return high;
    }
    default:
      return assertNever(shape, 'window shape');
  }
}

/**
 * The instants after `now` at which one of these buckets enters or leaves a window. Bucket
 * indexes are compared first, so only buckets starting after `now` are turned into instants.
 * The current index is kept: where clocks fall back at a time that is no bucket boundary
 * (Pacific/Chatham, 03:45 to 02:45, in hour buckets), the current bucket starts again after `now`.
 */
export function windowChangeCandidates(
  plan: WindowPlan,
  buckets: Iterable<number>,
  now: number,
  timeZone: string,
): number[] {
  if (plan.kind !== 'sliding') return [];
  const current = bucketIndex(plan.unit, now, timeZone);
  const indexes = new Set<number>();
  for (const bucket of new Set(buckets)) {
    const enter = windowEnterIndex(plan.shape, bucket);
    if (enter >= current) indexes.add(enter);
    const leave = windowLeaveIndex(plan.shape, bucket);
    if (leave >= current) indexes.add(leave);
  }
  return [...indexes].map((index) => bucketStart(plan.unit, index, timeZone));
}

/** How many days back a window can reach at most (for the retention limit); 0 when unbounded or fixed. */
export function windowReachDays(window: Window): number {
  const span = window.span;
  switch (span.case) {
    case 'lastMinutes':
      return Math.ceil(span.value / (24 * 60));
    case 'lastHours':
      return Math.ceil((span.value + 1) / 24);
    case 'lastDays':
      return span.value;
    case 'lastWeeks':
      return span.value * 7;
    case 'lastMonths':
      return span.value * 31;
    case 'calendar': {
      const { unit, offset } = calendarPeriodParts(span.value);
      const periods = 1 - Math.min(offset, 0);
      const longest = { day: 1, week: 7, month: 31, quarter: 92, year: 366 }[unit];
      return periods * longest;
    }
    case 'between':
    case undefined:
      return 0;
    default:
      return assertNever(span, 'window');
  }
}
