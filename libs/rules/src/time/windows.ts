import type { CalendarPeriod, Window } from '@shoal/contracts';
import { RuleError, RuleErrorCode, assertNever } from '../language/errors';
import {
  FALL_BACK_REACH_MS,
  bucketIndex,
  bucketReachedAfter,
  type BucketUnit,
  type CalendarUnit,
} from './buckets';
import { addMonths, civilFromDayIndex, dayIndexFromCivil } from './calendar';
import { nextOffsetChange } from './zone';

// Windows: which buckets an event window covers as time passes, and how far back it reaches.

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

/** Whether an event at an instant is inside a window at `now`: its bucket is one the window covers. */
export function windowCovers(
  plan: WindowPlan,
  now: number,
  timeZone: string,
): (instant: number) => boolean {
  switch (plan.kind) {
    case 'all':
      return () => true;
    case 'range':
      return (instant) => plan.from <= instant && instant < plan.to;
    case 'sliding': {
      const [low, high] = windowRangeAt(plan, now, timeZone);
      return (instant) => {
        const bucket = bucketIndex(plan.unit, instant, timeZone);
        return low <= bucket && bucket <= high;
      };
    }
    default:
      return assertNever(plan, 'window plan');
  }
}

/** The first of ascending `values` greater than `value`. */
function firstAbove(values: readonly number[], value: number): number | undefined {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((values[middle] as number) > value) high = middle;
    else low = middle + 1;
  }
  return values[low];
}

/**
 * The bucket indices at which one of these buckets enters or leaves a window of this shape,
 * ascending: what `windowChanges` searches.
 */
export function windowEdges(shape: SlidingShape, buckets: Iterable<number>): readonly number[] {
  const edges = new Set<number>();
  for (const bucket of new Set(buckets)) {
    edges.add(windowEnterIndex(shape, bucket));
    edges.add(windowLeaveIndex(shape, bucket));
  }
  return [...edges].sort((a, b) => a - b);
}

/**
 * The instants after `now`, ascending, at which alone a sliding window can come to cover a
 * different set of these buckets: where the current bucket reaches the next index at which one
 * of them enters or leaves the window, and where the zone's offset changes on the way (a clock
 * that falls back brings an earlier bucket back). None for other windows. `edges`, when the
 * caller keeps them (windowEdges of the same buckets and the plan's shape), saves computing them.
 */
export function* windowChanges(
  plan: WindowPlan,
  buckets: Iterable<number>,
  now: number,
  timeZone: string,
  edges?: readonly number[],
): Generator<number, void, undefined> {
  if (plan.kind !== 'sliding') return;
  const indexes = edges ?? windowEdges(plan.shape, buckets);
  for (let at = now; ;) {
    const current = bucketIndex(plan.unit, at, timeZone);
    const target = firstAbove(indexes, current);
    const next =
      target === undefined
        ? plan.unit === 'minute'
          ? undefined
          : nextOffsetChange(timeZone, at, at + FALL_BACK_REACH_MS)
        : bucketReachedAfter(plan.unit, target, at, timeZone);
    if (next === undefined) return;
    yield next;
    at = next;
  }
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
