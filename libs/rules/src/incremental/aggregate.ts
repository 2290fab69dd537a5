import type { JsonValue } from '@bufbuild/protobuf';
import type { EventCondition } from '@shoal/contracts';
import { compiledSpec } from './compiled-spec';
import { checkingEvent, type Fold } from './fold';
import { assertNever } from '../language/errors';
import { addToSum, mergeSums, sumValue, type ExactSum } from '../language/exact-sum';
import {
  isSlidingBucketing,
  type Accumulator,
  type AggregateSpec,
  type AggregateState,
  type Bucketing,
  type RuleEvent,
} from './state';
import { canonicalJson, elementsOf, resolveSegments } from '../language/values';
import { bucketIndex, lowestBucketFrom } from '../time/buckets';
import { windowRangeAt, type WindowPlan } from '../time/windows';

// Incremental event aggregates: folding one event into a spec's buckets, dropping buckets no
// window can reach any more, and reading a window. Events may arrive late or out of order; an
// event always lands in the bucket of its own timestamp.

const ALL_BUCKET = 'all';
/** Windows of up to this many buckets are read by index; longer ones by scanning the buckets held. */
const RANGE_BUCKET = 'range';

/** The bucket key an instant falls in, or undefined when a range spec does not cover it. */
function bucketKeyOf(bucketing: Bucketing, instant: number): string | undefined {
  switch (bucketing.unit) {
    case 'all':
      return ALL_BUCKET;
    case 'range':
      return bucketing.from <= instant && instant < bucketing.to ? RANGE_BUCKET : undefined;
    default:
      return String(bucketIndex(bucketing.unit, instant, bucketing.timeZone));
  }
}

/** The numeric values an event contributes (array elements each count; non-numbers are ignored). */
function numericValues(value: JsonValue | undefined): number[] {
  return elementsOf(value).filter(
    (element): element is number => typeof element === 'number' && Number.isFinite(element),
  );
}

function distinctValues(value: JsonValue | undefined): string[] {
  return elementsOf(value)
    .filter((element) => element !== null)
    .map(canonicalJson);
}

function accumulate(
  spec: AggregateSpec,
  property: readonly string[] | undefined,
  previous: Accumulator | undefined,
  event: RuleEvent,
): Accumulator | undefined {
  switch (spec.accumulator) {
    case 'count':
      return { count: (previous?.count ?? 0) + 1 };
    case 'numeric': {
      const values = numericValues(resolveSegments(event.properties, property));
      if (values.length === 0) return previous;
      let { count, sum, min, max } = previous ?? { count: 0, sum: [] };
      for (const value of values) {
        count += 1;
        sum = addToSum(sum ?? [], value);
        min = min === undefined ? value : Math.min(min, value);
        max = max === undefined ? value : Math.max(max, value);
      }
      return { count, sum: sum ?? [], min, max };
    }
    case 'distinct': {
      const values = distinctValues(resolveSegments(event.properties, property));
      if (values.length === 0) return previous;
      if (previous?.saturated === true) return previous;
      const set = new Set(previous?.values ?? []);
      for (const value of values) set.add(value);
      if (set.size > spec.distinctValuesCap) return { count: 0, saturated: true };
      return { count: 0, values: [...set].sort() };
    }
    default:
      return assertNever(spec.accumulator, 'accumulator');
  }
}

/** Folds one event (already checked) into an aggregate's state. */
export const foldAggregateEvent: Fold<AggregateSpec, AggregateState> = ({ state, spec, event }) => {
  const { matches, property } = compiledSpec(spec);
  if (!matches(event)) return state;
  const key = bucketKeyOf(spec.bucketing, event.timestamp);
  if (key === undefined) return state;
  const previous = state?.buckets[key];
  const next = accumulate(spec, property, previous, event);
  if (next === undefined || next === previous) return state;
  return { buckets: { ...state?.buckets, [key]: next } };
};

/**
 * Folds one event into an aggregate's state; an event that changes nothing (one the spec does
 * not count) leaves the state it was given, undefined included.
 */
export const applyEvent = checkingEvent(foldAggregateEvent);

/**
 * Drops the buckets no window using the spec can reach at `now` or later (windows move forward,
 * except where the clock soon falls back into an earlier bucket); returns the state it was given
 * when nothing is dropped. Unbucketed (all-time, range) state is never pruned.
 */
export function pruneBuckets({
  state,
  spec,
  now,
}: {
  state: AggregateState | undefined;
  spec: AggregateSpec;
  now: number;
}): AggregateState | undefined {
  const bucketing = spec.bucketing;
  if (state === undefined || !isSlidingBucketing(bucketing)) return state;
  const oldest = lowestBucketFrom(bucketing.unit, now, bucketing.timeZone) - bucketing.retain + 1;
  const kept = Object.entries(state.buckets).filter(([key]) => Number(key) >= oldest);
  return kept.length === Object.keys(state.buckets).length
    ? state
    : { buckets: Object.fromEntries(kept) };
}

/** An aggregate's value over a window. */
export interface AggregateReading {
  /** Events counted (`count`) or numeric values seen (`numeric`). */
  readonly count: number;
  readonly sum: number;
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** Distinct values seen; when `saturated`, at least distinctValuesCap + 1 (the set is not exact). */
  readonly distinct: number;
  readonly saturated: boolean;
}

// A state's buckets are never changed in place (a fold or a prune makes a new object), and a
// state is read far more often than it changes (every evaluation of every condition on its
// spec, at several instants when looking for the next change), so its bucket indices are sorted
// once per buckets object: a window then costs a binary search plus the buckets it covers,
// instead of a lookup per bucket of its span (365 for "in the last 365 days").
const NO_BUCKETS: Readonly<Record<string, Accumulator>> = Object.freeze({});
const sortedIndices = new WeakMap<Readonly<Record<string, Accumulator>>, readonly number[]>();

/** The bucket indices of a sliding aggregate's buckets, ascending. */
export function bucketIndicesOf(buckets: Readonly<Record<string, Accumulator>>): readonly number[] {
  let indices = sortedIndices.get(buckets);
  if (indices === undefined) {
    indices = Object.keys(buckets)
      .map(Number)
      .sort((a, b) => a - b);
    sortedIndices.set(buckets, indices);
  }
  return indices;
}

/** The position of the first index at or above `low` (the length when there is none). */
function firstAtLeast(indices: readonly number[], low: number): number {
  let from = 0;
  let to = indices.length;
  while (from < to) {
    const middle = (from + to) >>> 1;
    if ((indices[middle] as number) < low) from = middle + 1;
    else to = middle;
  }
  return from;
}

/** The buckets of a state that a window covers at `now`. */
export function bucketsInWindow({
  state,
  plan,
  now,
  timeZone,
}: {
  state: AggregateState | undefined;
  plan: WindowPlan;
  now: number;
  timeZone: string;
}): Accumulator[] {
  const buckets = state?.buckets ?? NO_BUCKETS;
  switch (plan.kind) {
    case 'all':
    case 'range':
      return Object.values(buckets);
    case 'sliding': {
      const [low, high] = windowRangeAt(plan, now, timeZone);
      const found: Accumulator[] = [];
      const indices = bucketIndicesOf(buckets);
      for (let at = firstAtLeast(indices, low); at < indices.length; at += 1) {
        const index = indices[at] as number;
        if (index > high) break;
        found.push(buckets[index] as Accumulator);
      }
      return found;
    }
    default:
      return assertNever(plan, 'window plan');
  }
}

const prefixCounts = new WeakMap<Readonly<Record<string, Accumulator>>, readonly number[]>();

/** Running counts over a sliding aggregate's buckets in index order: [0, c0, c0 + c1, ...]. */
function prefixCountsOf(buckets: Readonly<Record<string, Accumulator>>): readonly number[] {
  let prefix = prefixCounts.get(buckets);
  if (prefix === undefined) {
    const indices = bucketIndicesOf(buckets);
    const running = [0];
    let total = 0;
    for (const index of indices) {
      total += (buckets[index] as Accumulator).count;
      running.push(total);
    }
    prefix = running;
    prefixCounts.set(buckets, prefix);
  }
  return prefix;
}

/**
 * The count of a window at `now`, as `count` over bucketsInWindow, without collecting the
 * buckets: two binary searches over running counts kept per buckets object. A next-change
 * search reads a count at every instant it reaches, so this is its hot path.
 */
export function countInWindow({
  state,
  plan,
  now,
  timeZone,
}: {
  state: AggregateState | undefined;
  plan: WindowPlan;
  now: number;
  timeZone: string;
}): number {
  if (state === undefined) return 0;
  if (plan.kind !== 'sliding') return countOf(bucketsInWindow({ state, plan, now, timeZone }));
  const [low, high] = windowRangeAt(plan, now, timeZone);
  const indices = bucketIndicesOf(state.buckets);
  const prefix = prefixCountsOf(state.buckets);
  return (
    (prefix[firstAtLeast(indices, high + 1)] as number) -
    (prefix[firstAtLeast(indices, low)] as number)
  );
}

export function readAccumulators(
  accumulators: readonly Accumulator[],
  distinctValuesCap: number,
): AggregateReading {
  return {
    count: countOf(accumulators),
    sum: sumValue(sumOf(accumulators)),
    min: extremeOf(accumulators, 'min'),
    max: extremeOf(accumulators, 'max'),
    ...distinctOf(accumulators, distinctValuesCap),
  };
}

/** The measures an aggregate condition can take of its window. */
export type AggregateMeasure = Exclude<
  EventCondition['measure']['case'],
  'firstSeen' | 'lastSeen' | undefined
>;

/** A measure of a window; `saturated` as in AggregateReading. */
export interface MeasureValue {
  readonly value: number | undefined;
  readonly saturated: boolean;
}

/**
 * Reads one measure from a window's buckets, merging only the totals that measure needs (a
 * condition reads its window on every evaluation, so the reader is chosen once, when compiling).
 */
export function measureReader(
  measure: AggregateMeasure,
  distinctValuesCap: number,
): (accumulators: readonly Accumulator[]) => MeasureValue {
  switch (measure) {
    case 'count':
      return (accumulators) => ({ value: countOf(accumulators), saturated: false });
    case 'sum':
      return (accumulators) => ({ value: sumValue(sumOf(accumulators)), saturated: false });
    case 'avg':
      return (accumulators) => {
        const count = countOf(accumulators);
        return {
          value: count === 0 ? undefined : sumValue(sumOf(accumulators)) / count,
          saturated: false,
        };
      };
    case 'min':
    case 'max':
      return (accumulators) => ({ value: extremeOf(accumulators, measure), saturated: false });
    case 'distinctCount':
      return (accumulators) => {
        const { distinct, saturated } = distinctOf(accumulators, distinctValuesCap);
        return { value: distinct, saturated };
      };
    default:
      return assertNever(measure, 'event measure');
  }
}

function countOf(accumulators: readonly Accumulator[]): number {
  let count = 0;
  for (const accumulator of accumulators) count += accumulator.count;
  return count;
}

function sumOf(accumulators: readonly Accumulator[]): ExactSum {
  let sum: ExactSum = [];
  for (const accumulator of accumulators) {
    if (accumulator.sum !== undefined) sum = mergeSums(sum, accumulator.sum);
  }
  return sum;
}

function extremeOf(accumulators: readonly Accumulator[], which: 'min' | 'max'): number | undefined {
  const pick = which === 'min' ? Math.min : Math.max;
  let extreme: number | undefined;
  for (const accumulator of accumulators) {
    const value = accumulator[which];
    if (value !== undefined) extreme = extreme === undefined ? value : pick(extreme, value);
  }
  return extreme;
}

function distinctOf(
  accumulators: readonly Accumulator[],
  distinctValuesCap: number,
): { distinct: number; saturated: boolean } {
  let saturated = false;
  const values = new Set<string>();
  for (const accumulator of accumulators) {
    if (accumulator.saturated === true) saturated = true;
    for (const value of accumulator.values ?? []) values.add(value);
  }
  return {
    distinct: saturated ? Math.max(values.size, distinctValuesCap + 1) : values.size,
    saturated,
  };
}
