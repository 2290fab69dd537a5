import { Temporal } from '@js-temporal/polyfill';
import type { CalendarPeriod } from '@shoal/contracts';
import type { CivilDate, DateValue } from '../language/dates';
import { RuleError, RuleErrorCode } from '../language/errors';

// The oracle's clock and calendar: what a zone's clock reads at an instant, where its days
// start, and calendar arithmetic, all from the Temporal polyfill. Nothing here uses the
// incremental path's zone or calendar code (time/), so a bug there shows up as a disagreement
// in the property tests instead of passing them unseen. Windows are defined by what the clock
// reads, never by instants computed from readings: an event is in "the last 2 hours" when the
// hour its time reads on the zone's clock is the current one or the one before.

type PlainDate = Temporal.PlainDate;

const { compare } = Temporal.PlainDate;

/** The zone's clock at an instant (fractions of a millisecond are dropped). */
function clock(instant: number, zone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(Math.floor(instant)).toZonedDateTimeISO(zone);
}

/** The calendar date the zone's clock shows at an instant. */
export function dateAt(instant: number, zone: string): PlainDate {
  return clock(instant, zone).toPlainDate();
}

function plainDate(date: CivilDate): PlainDate {
  return Temporal.PlainDate.from({ year: date.year, month: date.month, day: date.day });
}

/** The first instant of a calendar day in the zone (later than midnight when midnight is skipped). */
export function startOfDay(date: CivilDate, zone: string): number {
  return plainDate(date).toZonedDateTime({ timeZone: zone }).epochMilliseconds;
}

/**
 * The instant a date value names in the zone: a date is the start of that day; a wall-clock
 * time its first occurrence when the clock shows it twice, and is moved forward by the gap when
 * the clock skips it (Temporal's "compatible" disambiguation).
 */
export function instantOf(value: DateValue, zone: string): number {
  switch (value.kind) {
    case 'instant':
      return value.at;
    case 'date':
      return startOfDay(value.date, zone);
    case 'wall':
      return plainDate(value.date)
        .toPlainDateTime()
        .add({ milliseconds: value.ms })
        .toZonedDateTime(zone, { disambiguation: 'compatible' }).epochMilliseconds;
  }
}

type Unit = Exclude<CalendarPeriod['unit']['case'], undefined>;

function unitOf(period: CalendarPeriod): { unit: Unit; offset: number } {
  if (period.unit.case === undefined)
    throw new RuleError(RuleErrorCode.InvalidRule, 'a calendar period needs a unit');
  return { unit: period.unit.case, offset: period.unit.value };
}

/** The first day of the period of `unit` that `date` is in (weeks start on Monday). */
function periodStart(date: PlainDate, unit: Unit): PlainDate {
  switch (unit) {
    case 'day':
      return date;
    case 'week':
      return date.subtract({ days: date.dayOfWeek - 1 });
    case 'month':
      return date.with({ day: 1 });
    case 'quarter':
      return date.with({ month: date.month - ((date.month - 1) % 3), day: 1 });
    case 'year':
      return date.with({ month: 1, day: 1 });
  }
}

function shift(start: PlainDate, unit: Unit, offset: number): PlainDate {
  switch (unit) {
    case 'day':
      return start.add({ days: offset });
    case 'week':
      return start.add({ weeks: offset });
    case 'month':
      return start.add({ months: offset });
    case 'quarter':
      return start.add({ months: 3 * offset });
    case 'year':
      return start.add({ years: offset });
  }
}

/** Whether the zone's clock shows `instant` in the calendar period `offset` periods from now's. */
export function inCalendarPeriod(
  instant: number,
  period: CalendarPeriod,
  now: number,
  zone: string,
): boolean {
  const { unit, offset } = unitOf(period);
  const wanted = shift(periodStart(dateAt(now, zone), unit), unit, offset);
  return compare(periodStart(dateAt(instant, zone), unit), wanted) === 0;
}

function between<T>(low: T, value: T, high: T, order: (a: T, b: T) => number): boolean {
  return order(low, value) <= 0 && order(value, high) <= 0;
}

/** Whether `instant` is among the last `count` calendar days of the zone (today included). */
export function inLastDays(instant: number, count: number, now: number, zone: string): boolean {
  const today = dateAt(now, zone);
  return between(today.subtract({ days: count - 1 }), dateAt(instant, zone), today, compare);
}

/** Whether `instant` is on a day from the day after today minus `count` months through today. */
export function inLastMonths(instant: number, count: number, now: number, zone: string): boolean {
  const today = dateAt(now, zone);
  const first = today.subtract({ months: count }).add({ days: 1 });
  return between(first, dateAt(instant, zone), today, compare);
}

/**
 * Whether `instant` is in the current hour (or minute) of the clock or one of the `count` − 1
 * before it, by what the clock reads; minutes are read on the UTC clock.
 */
export function inLastClockUnits(
  unit: 'minute' | 'hour',
  instant: number,
  count: number,
  now: number,
  zone: string,
): boolean {
  const reading = (at: number): Temporal.PlainDateTime =>
    clock(at, unit === 'minute' ? 'UTC' : zone)
      .toPlainDateTime()
      .round({ smallestUnit: unit, roundingMode: 'floor' });
  const current = reading(now);
  return between(
    current.subtract(unit === 'minute' ? { minutes: count - 1 } : { hours: count - 1 }),
    reading(instant),
    current,
    Temporal.PlainDateTime.compare,
  );
}

/**
 * Whether the next anniversary of the date `instant` falls on in the zone (in a later year than
 * it; 29 February falls on 28 February in other years) is today or at most `days` days away.
 */
export function anniversaryWithin(
  instant: number,
  days: number,
  now: number,
  zone: string,
): boolean {
  const born = dateAt(instant, zone);
  const today = dateAt(now, zone);
  for (let year = Math.max(born.year + 1, today.year - 1); year <= today.year + 1; year += 1) {
    const anniversary = Temporal.PlainDate.from(
      { year, month: born.month, day: born.day },
      { overflow: 'constrain' },
    );
    const ahead = today.until(anniversary).days;
    if (ahead >= 0 && ahead <= days) return true;
  }
  return false;
}
