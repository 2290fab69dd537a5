import { compiledSpec } from './compiled-spec';
import { checkingEvent, type Fold } from './fold';
import { isSlidingBucketing, type SequenceSpec, type SequenceState } from './state';
import { bucketIndex, lowestBucketFrom } from '../time/buckets';

// Sequences: the most recent occurrences of each step (and of the follow-up event) are kept,
// at most `occurrenceCap` per list; occurrences older than every window using the spec are
// dropped. Keeping the most recent ones by timestamp makes the state a pure function of the
// event history, whatever the order of arrival.

function insertCapped(list: readonly number[], instant: number, cap: number): readonly number[] {
  // A full list keeps only instants later than its oldest; a cap of 0 keeps none.
  if (list.length >= cap && (list.length === 0 || instant <= (list[0] as number))) return list;
  let at = list.length;
  while (at > 0 && (list[at - 1] as number) > instant) at -= 1;
  const next = [...list.slice(0, at), instant, ...list.slice(at)];
  return next.length > cap ? next.slice(next.length - cap) : next;
}

/** Folds one event (already checked) into a sequence's state. */
export const foldSequenceEvent: Fold<SequenceSpec, SequenceState> = ({ state, spec, event }) => {
  const matchers = compiledSpec(spec);
  let changed = false;
  const steps = matchers.steps.map((matches, index) => {
    const list = state?.steps[index] ?? [];
    if (!matches(event)) return list;
    const next = insertCapped(list, event.timestamp, spec.occurrenceCap);
    changed ||= next !== list;
    return next;
  });
  let followUps = state?.followUps ?? [];
  if (matchers.followUp !== undefined && matchers.followUp(event)) {
    const next = insertCapped(followUps, event.timestamp, spec.occurrenceCap);
    changed ||= next !== followUps;
    followUps = next;
  }
  return changed ? { steps, followUps } : state;
};

/**
 * Folds one event into a sequence's state (it may match several steps and the follow-up); an
 * event that changes nothing leaves the state it was given, undefined included.
 */
export const applySequenceEvent = checkingEvent(foldSequenceEvent);

/** Drops occurrences older than any window using the spec can reach at `now` or later. */
export function pruneSequence({
  state,
  spec,
  now,
}: {
  state: SequenceState | undefined;
  spec: SequenceSpec;
  now: number;
}): SequenceState | undefined {
  const bucketing = spec.bucketing;
  if (state === undefined || !isSlidingBucketing(bucketing)) return state;
  const { unit, timeZone } = bucketing;
  const oldest = lowestBucketFrom(unit, now, timeZone) - bucketing.retain + 1;
  const keep = (list: readonly number[]): readonly number[] => {
    const kept = list.filter((instant) => bucketIndex(unit, instant, timeZone) >= oldest);
    return kept.length === list.length ? list : kept;
  };
  const steps = state.steps.map(keep);
  const followUps = keep(state.followUps);
  return steps.every((list, index) => list === state.steps[index]) && followUps === state.followUps
    ? state
    : { steps, followUps };
}

/** The shape a chain of occurrences must have. Times are milliseconds; undefined means no limit. */
export interface ChainShape {
  readonly maxGap: number | undefined;
  readonly within: number | undefined;
  /** With a follow-up: how long after the last step it would count. */
  readonly followUpWithin: number | undefined;
}

/** A complete chain: its first and last occurrences (the latest possible start for that end). */
export interface Chain {
  readonly start: number;
  readonly end: number;
}

/**
 * Every last-step occurrence the window `covers` that ends a valid chain of covered occurrences,
 * with the latest start of such a chain. Steps must be strictly increasing in time, within
 * `maxGap` of each other and within `within` from first to last; the latest start is the best
 * for both limits, so it decides. Linear in the number of occurrences (a sliding-window maximum).
 */
export function completeChains({
  steps,
  covers,
  shape,
}: {
  steps: readonly (readonly number[])[];
  covers: (instant: number) => boolean;
  shape: ChainShape;
}): Chain[] {
  const inWindow = steps.map((list) => list.filter(covers));
  let times: readonly number[] = inWindow[0] ?? [];
  let starts: (number | undefined)[] = [...times];
  for (let step = 1; step < inWindow.length; step += 1) {
    const next = inWindow[step] as number[];
    const nextStarts: (number | undefined)[] = [];
    const deque: number[] = [];
    let head = 0;
    let added = 0;
    for (const instant of next) {
      while (added < times.length && (times[added] as number) < instant) {
        const start = starts[added];
        if (start !== undefined) {
          while (
            deque.length > head &&
            (starts[deque[deque.length - 1] as number] as number) <= start
          )
            deque.pop();
          deque.push(added);
        }
        added += 1;
      }
      if (shape.maxGap !== undefined) {
        while (
          deque.length > head &&
          (times[deque[head] as number] as number) < instant - shape.maxGap
        )
          head += 1;
      }
      const best = deque.length > head ? starts[deque[head] as number] : undefined;
      nextStarts.push(
        best !== undefined && (shape.within === undefined || instant - best <= shape.within)
          ? best
          : undefined,
      );
    }
    times = next;
    starts = nextStarts;
  }
  const chains: Chain[] = [];
  times.forEach((end, index) => {
    const start = starts[index];
    if (start !== undefined) chains.push({ start, end });
  });
  return chains;
}

/**
 * The first follow-up strictly after `end` and at most `within` after it, if any. Follow-ups
 * are kept in ascending order (`insertCapped`), so the first one after `end` is found by
 * bisection: evaluation asks this for every complete chain, and a scan per chain was a tenth of
 * membership's CPU at a steady rate.
 */
export function followUpAfter(
  followUps: readonly number[],
  end: number,
  within: number,
): number | undefined {
  let low = 0;
  let high = followUps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((followUps[middle] as number) > end) high = middle;
    else low = middle + 1;
  }
  const first = followUps[low];
  return first !== undefined && first <= end + within ? first : undefined;
}
