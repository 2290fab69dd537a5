import { utcMs } from '../language/dates';
import { RuleError, RuleErrorCode } from '../language/errors';
import { DAY_MS, MINUTE_MS } from './calendar';

// A time zone's offsets and clock. An instant is an integer number of milliseconds since the
// epoch; a "wall" time is the same count read on the zone's clock (instant + offset), so
// wall-clock fields can be read with the UTC getters of Date.

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

const OFFSET_SCAN_STEP_MS = 7 * DAY_MS;

/**
 * The first instant in (after, until] at which the zone's offset differs from its offset at
 * `after`, or undefined. Offsets are compared a week apart and the change found by bisection,
 * so, like the Temporal polyfill's transition search, this assumes no two transitions less than
 * a week apart that cancel each other out.
 */
export function nextOffsetChange(
  timeZone: string,
  after: number,
  until: number,
): number | undefined {
  if (timeZone === 'UTC') return undefined;
  const offset = zoneOffset(timeZone, after);
  for (let low = after; low < until;) {
    let high = Math.min(low + OFFSET_SCAN_STEP_MS, until);
    if (zoneOffset(timeZone, high) !== offset) {
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (zoneOffset(timeZone, middle) === offset) low = middle;
        else high = middle;
      }
      return high;
    }
    low = high;
  }
  return undefined;
}
