import { checkEvent, foldAggregateEvent, pruneBuckets } from './aggregate';
import { assertNever } from './errors';
import { foldRecencyEvent } from './recency';
import { foldSequenceEvent, pruneSequence } from './sequence';
import type { EvaluationState, RuleEvent, StateSpec } from './state';

// Folding events into a whole evaluation state, spec by spec.

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
      case 'aggregate': {
        const before = aggregates[spec.key];
        const after = foldAggregateEvent({ state: before, spec, event });
        if (after !== before && (before !== undefined || Object.keys(after.buckets).length > 0)) {
          aggregates = { ...aggregates, [spec.key]: after };
        }
        break;
      }
      case 'recency': {
        const before = recency[spec.key];
        const after = foldRecencyEvent({ state: before, spec, event });
        if (after !== undefined && after !== before) recency = { ...recency, [spec.key]: after };
        break;
      }
      case 'sequence': {
        const before = sequences[spec.key];
        const after = foldSequenceEvent({ state: before, spec, event });
        if (
          after !== before &&
          (before !== undefined ||
            after.steps.some((list) => list.length > 0) ||
            after.followUps.length > 0)
        ) {
          sequences = { ...sequences, [spec.key]: after };
        }
        break;
      }
      default:
        assertNever(spec, 'state spec');
    }
  }
  return aggregates === state.aggregates &&
    recency === state.recency &&
    sequences === state.sequences
    ? state
    : { ...state, aggregates, recency, sequences };
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
    if (spec.kind === 'aggregate' && aggregates[spec.key] !== undefined) {
      const before = aggregates[spec.key];
      const after = pruneBuckets({ state: before, spec, now });
      if (after !== before) aggregates = { ...aggregates, [spec.key]: after };
    } else if (spec.kind === 'sequence' && sequences[spec.key] !== undefined) {
      const before = sequences[spec.key];
      const after = pruneSequence({ state: before, spec, now });
      if (after !== before && after !== undefined) sequences = { ...sequences, [spec.key]: after };
    }
  }
  return aggregates === state.aggregates && sequences === state.sequences
    ? state
    : { ...state, aggregates, sequences };
}
