import { checkEvent, foldAggregateEvent, pruneBuckets } from './aggregate';
import { assertNever } from '../language/errors';
import { foldRecencyEvent } from './recency';
import { foldSequenceEvent, pruneSequence } from './sequence';
import type { EvaluationState, RuleEvent, StateSpec } from './state';

// Folding events into a whole evaluation state, spec by spec. Every fold and prune returns the
// state it was given (undefined included) when nothing changes, so a spec's entry is replaced
// only when its state changed.

/** Folds one event into every spec's state; specs it does not concern keep their state object. */
export function applyEventToState({
  state,
  specs,
  event,
}: {
  state: EvaluationState;
  specs: readonly StateSpec[];
  event: RuleEvent;
}): EvaluationState {
  // The event is checked once here for every spec; one no spec folds is not looked at.
  if (specs.length === 0) return state;
  checkEvent(event);
  let { aggregates, recency, sequences } = state;
  for (const spec of specs) {
    switch (spec.kind) {
      case 'aggregate':
        aggregates = withEntry(
          aggregates,
          spec.key,
          foldAggregateEvent({ state: aggregates[spec.key], spec, event }),
        );
        break;
      case 'recency':
        recency = withEntry(
          recency,
          spec.key,
          foldRecencyEvent({ state: recency[spec.key], spec, event }),
        );
        break;
      case 'sequence':
        sequences = withEntry(
          sequences,
          spec.key,
          foldSequenceEvent({ state: sequences[spec.key], spec, event }),
        );
        break;
      default:
        assertNever(spec, 'state spec');
    }
  }
  return withStates(state, { aggregates, recency, sequences });
}

/** Drops every bucket and occurrence no window of these specs can reach at `now` or later. */
export function pruneState({
  state,
  specs,
  now,
}: {
  state: EvaluationState;
  specs: readonly StateSpec[];
  now: number;
}): EvaluationState {
  let { aggregates, sequences } = state;
  for (const spec of specs) {
    switch (spec.kind) {
      case 'aggregate':
        aggregates = withEntry(
          aggregates,
          spec.key,
          pruneBuckets({ state: aggregates[spec.key], spec, now }),
        );
        break;
      case 'sequence':
        sequences = withEntry(
          sequences,
          spec.key,
          pruneSequence({ state: sequences[spec.key], spec, now }),
        );
        break;
      case 'recency':
        // First and last occurrences are all-time extremes: nothing ages out.
        break;
      default:
        assertNever(spec, 'state spec');
    }
  }
  return withStates(state, { aggregates, recency: state.recency, sequences });
}

/** `entries` with `key` holding `value`; `entries` itself when it already does (or value is undefined). */
function withEntry<T>(
  entries: Readonly<Record<string, T>>,
  key: string,
  value: T | undefined,
): Readonly<Record<string, T>> {
  return value === undefined || value === entries[key] ? entries : { ...entries, [key]: value };
}

function withStates(
  state: EvaluationState,
  next: Pick<EvaluationState, 'aggregates' | 'recency' | 'sequences'>,
): EvaluationState {
  return next.aggregates === state.aggregates &&
    next.recency === state.recency &&
    next.sequences === state.sequences
    ? state
    : { ...state, ...next };
}
