import type { JsonObject } from '@bufbuild/protobuf';
import type { Span, TimeCondition, TimeOperand } from '@shoal/contracts';
import { RuleError, RuleErrorCode, assertNever } from '../language/errors';
import { daysInMonth, parseCivilDate, type CivilDate } from '../language/dates';
import { formatInstant, pathSegments, resolveSegments } from '../language/values';
import {
  bucketIndex,
  bucketStart,
  civilDateAt,
  parseInstant,
  startOfCivilDate,
} from '../time/buckets';
import { DAY_MS, HOUR_MS, MINUTE_MS, civilFromDayIndex, dayIndexFromCivil } from '../time/calendar';
import { calendarPeriodParts } from '../time/windows';

// Tests on one instant (a date trait, a first or last occurrence): evaluation, the instants at
// which the result can change as time passes, and a readable description.

/** The time operators, shared by FieldCondition and TimeCondition (same cases, same meaning). */
export type TimeOperator = Exclude<TimeCondition['operator'], { case: undefined }>;

const TIME_OPERATOR_CASES: ReadonlySet<string> = new Set<TimeOperator['case']>([
  'before',
  'after',
  'withinLast',
  'withinNext',
  'during',
  'calendar',
  'anniversary',
  'afterTrait',
]);

export function isTimeOperator(operator: { case: string | undefined }): operator is TimeOperator {
  return operator.case !== undefined && TIME_OPERATOR_CASES.has(operator.case);
}

/** Whether an operand is a fixed instant (`at` or `date`) rather than one relative to now. */
export function isAbsoluteOperand(operand: TimeOperand): boolean {
  return operand.point.case === 'at' || operand.point.case === 'date';
}

/** Whether a time operator's result moves with now (absolute before/after/during and anchors do not). */
export function isRelativeTimeOperator(operator: TimeOperator): boolean {
  const relative = (operand: TimeOperand | undefined): boolean =>
    operand !== undefined && !isAbsoluteOperand(operand);
  switch (operator.case) {
    case 'before':
    case 'after':
      return relative(operator.value);
    case 'during':
      return relative(operator.value.from) || relative(operator.value.to);
    case 'afterTrait':
      return false;
    case 'withinLast':
    case 'withinNext':
    case 'calendar':
    case 'anniversary':
      return true;
    default:
      return assertNever(operator, 'time operator');
  }
}

/** A span in milliseconds; 0 when unset. */
export function spanMs(span: Span | undefined): number {
  const length = span?.length;
  switch (length?.case) {
    case undefined:
      return 0;
    case 'minutes':
      return length.value * MINUTE_MS;
    case 'hours':
      return length.value * HOUR_MS;
    case 'days':
      return length.value * DAY_MS;
    case 'weeks':
      return length.value * 7 * DAY_MS;
    default:
      return assertNever(length, 'span');
  }
}

export function describeSpan(span: Span | undefined): string {
  const length = span?.length;
  if (length === undefined || length.case === undefined) return 'no time';
  const unit = length.case.slice(0, -1);
  return `${length.value} ${unit}${length.value === 1 ? '' : 's'}`;
}

/** A time operand: a fixed instant, or now plus an offset. */
export type ResolvedOperand =
  | { readonly kind: 'absolute'; readonly at: number }
  | { readonly kind: 'relative'; readonly offset: number };

export function resolveOperand(
  operand: TimeOperand | undefined,
  timeZone: string,
): ResolvedOperand {
  const point = operand?.point;
  switch (point?.case) {
    case 'at':
      return {
        kind: 'absolute',
        at: Number(point.value.seconds) * 1000 + Math.floor(point.value.nanos / 1_000_000),
      };
    case 'date': {
      const date = parseCivilDate(point.value);
      if (date === undefined) throw invalid(`not a date: "${point.value}"`);
      return { kind: 'absolute', at: startOfCivilDate(date, timeZone) };
    }
    case 'minutesAgo':
      return { kind: 'relative', offset: -point.value * MINUTE_MS };
    case 'hoursAgo':
      return { kind: 'relative', offset: -point.value * HOUR_MS };
    case 'daysAgo':
      return { kind: 'relative', offset: -point.value * DAY_MS };
    case 'weeksAgo':
      return { kind: 'relative', offset: -point.value * 7 * DAY_MS };
    case 'minutesFromNow':
      return { kind: 'relative', offset: point.value * MINUTE_MS };
    case 'hoursFromNow':
      return { kind: 'relative', offset: point.value * HOUR_MS };
    case 'daysFromNow':
      return { kind: 'relative', offset: point.value * DAY_MS };
    case 'weeksFromNow':
      return { kind: 'relative', offset: point.value * 7 * DAY_MS };
    case undefined:
      throw invalid('a time operand needs a point');
    default:
      return assertNever(point, 'time operand');
  }
}

function invalid(message: string): RuleError {
  return new RuleError(RuleErrorCode.InvalidRule, message);
}

export function operandAt(operand: ResolvedOperand, now: number): number {
  return operand.kind === 'absolute' ? operand.at : now + operand.offset;
}

function describeOperand(
  operand: TimeOperand | undefined,
  resolved: ResolvedOperand,
  now: number,
): string {
  const at = formatInstant(operandAt(resolved, now));
  const point = operand?.point;
  if (point === undefined || point.case === 'at' || point.case === undefined) return at;
  if (point.case === 'date') return `${point.value} (${at})`;
  const words = point.case.replace(/([A-Z])/g, ' $1').toLowerCase();
  return `${point.value} ${words} (${at})`;
}

/** The day index of a date's anniversary in `year` (29 February falls on 28 February in other years). */
function anniversaryIn(original: CivilDate, year: number): number {
  return dayIndexFromCivil({
    year,
    month: original.month,
    day: Math.min(original.day, daysInMonth(year, original.month)),
  });
}

/** Days from `today` (a day index) to the next anniversary of `original`, in a later year than it. */
function daysToAnniversary(original: CivilDate, today: number): number {
  const year = Math.max(civilFromDayIndex(today).year, original.year + 1);
  const candidate = anniversaryIn(original, year);
  return (candidate >= today ? candidate : anniversaryIn(original, year + 1)) - today;
}

export interface CompiledTimeTest {
  /** True when the result can change as time passes (the operand depends on now). */
  readonly relative: boolean;
  test(instant: number, now: number, traits: JsonObject): boolean;
  /** Instants after which the result for `instant` may differ; every change happens at one of them. */
  breakpoints(instant: number, now: number): number[];
  describe(now: number, traits: JsonObject): string;
}

export function compileTimeTest({
  operator,
  timeZone,
}: {
  operator: TimeOperator;
  timeZone: string;
}): CompiledTimeTest {
  const relative = isRelativeTimeOperator(operator);
  switch (operator.case) {
    case 'before':
    case 'after': {
      const resolved = resolveOperand(operator.value, timeZone);
      const before = operator.case === 'before';
      return {
        relative,
        test: (instant, now) =>
          before ? instant < operandAt(resolved, now) : instant > operandAt(resolved, now),
        breakpoints: (instant) =>
          resolved.kind === 'absolute'
            ? []
            : [before ? instant - resolved.offset + 1 : instant - resolved.offset],
        describe: (now) => `${operator.case} ${describeOperand(operator.value, resolved, now)}`,
      };
    }
    case 'withinLast':
    case 'withinNext': {
      const span = spanMs(operator.value);
      const last = operator.case === 'withinLast';
      return {
        relative,
        test: (instant, now) =>
          last ? now - span <= instant && instant <= now : now <= instant && instant <= now + span,
        breakpoints: (instant) =>
          last ? [instant, instant + span + 1] : [instant - span, instant + 1],
        describe: (now) =>
          last
            ? `within the last ${describeSpan(operator.value)} (${formatInstant(now - span)} to ${formatInstant(now)})`
            : `within the next ${describeSpan(operator.value)} (${formatInstant(now)} to ${formatInstant(now + span)})`,
      };
    }
    case 'during': {
      const from = resolveOperand(operator.value.from, timeZone);
      const to = resolveOperand(operator.value.to, timeZone);
      return {
        relative,
        test: (instant, now) => operandAt(from, now) <= instant && instant < operandAt(to, now),
        breakpoints: (instant) => [
          ...(from.kind === 'relative' ? [instant - from.offset + 1] : []),
          ...(to.kind === 'relative' ? [instant - to.offset + 1] : []),
        ],
        describe: (now) =>
          `from ${describeOperand(operator.value.from, from, now)} until ${describeOperand(operator.value.to, to, now)}`,
      };
    }
    case 'calendar': {
      const { unit, offset } = calendarPeriodParts(operator.value);
      return {
        relative,
        test: (instant, now) =>
          bucketIndex(unit, instant, timeZone) === bucketIndex(unit, now, timeZone) + offset,
        breakpoints: (instant) => {
          const current = bucketIndex(unit, instant, timeZone) - offset;
          return [bucketStart(unit, current, timeZone), bucketStart(unit, current + 1, timeZone)];
        },
        describe: (now) => {
          const period = bucketIndex(unit, now, timeZone) + offset;
          return `in ${describeCalendar(unit, offset)} (from ${formatInstant(bucketStart(unit, period, timeZone))})`;
        },
      };
    }
    case 'anniversary': {
      const days = operator.value.withinNextDays;
      const test = (instant: number, now: number): boolean =>
        daysToAnniversary(civilDateAt(timeZone, instant), bucketIndex('day', now, timeZone)) <=
        days;
      return {
        relative,
        test,
        breakpoints: (instant, now) => {
          const original = civilDateAt(timeZone, instant);
          const today = bucketIndex('day', now, timeZone);
          const first = Math.max(original.year + 1, civilFromDayIndex(today).year - 1);
          const days_: number[] = [];
          for (let year = first; year <= first + 3; year += 1) {
            const anniversary = anniversaryIn(original, year);
            days_.push(anniversary - days, anniversary + 1);
          }
          return days_.filter((day) => day > today).map((day) => bucketStart('day', day, timeZone));
        },
        describe: () =>
          days === 0
            ? 'with an anniversary today'
            : `with an anniversary within the next ${days} days`,
      };
    }
    case 'afterTrait': {
      const span = spanMs(operator.value.within);
      const anchorPath = operator.value.path;
      const anchorSegments = pathSegments(anchorPath);
      const anchorOf = (traits: JsonObject): number | undefined => {
        const value = resolveSegments(traits, anchorSegments);
        return Array.isArray(value) ? undefined : parseInstant(value, timeZone);
      };
      return {
        relative,
        test: (instant, _now, traits) => {
          const anchor = anchorOf(traits);
          return anchor !== undefined && anchor <= instant && instant <= anchor + span;
        },
        breakpoints: () => [],
        describe: (_now, traits) => {
          const anchor = anchorOf(traits);
          const where = anchor === undefined ? 'which is not set' : `= ${formatInstant(anchor)}`;
          return `within ${describeSpan(operator.value.within)} after trait ${anchorPath} (${where})`;
        },
      };
    }
    default:
      return assertNever(operator, 'time operator');
  }
}

export function describeCalendar(unit: string, offset: number): string {
  if (offset === 0) return unit === 'day' ? 'today' : `this calendar ${unit}`;
  if (offset === -1) return unit === 'day' ? 'yesterday' : `last calendar ${unit}`;
  if (offset === 1) return unit === 'day' ? 'tomorrow' : `next calendar ${unit}`;
  return offset < 0
    ? `the calendar ${unit} ${-offset} ${unit}s ago`
    : `the calendar ${unit} in ${offset} ${unit}s`;
}
