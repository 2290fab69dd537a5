import { applyEvent, pruneBuckets } from './aggregate';
import { assertNever } from './errors';
import { applyRecencyEvent } from './recency';
import { applySequenceEvent, pruneSequence } from './sequence';
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
  let { aggregates, recency, sequences } = state;
  for (const spec of specs) {
    switch (spec.kind) {
      case 'aggregate': {
        const before = aggregates[spec.key];
        const after = applyEvent({ state: before, spec, event });
        if (after !== before && (before !== undefined || Object.keys(after.buckets).length > 0)) {
          aggregates = { ...aggregates, [spec.key]: after };
        }
        break;
      }
      case 'recency': {
        const before = recency[spec.key];
        const after = applyRecencyEvent({ state: before, spec, event });
        if (after !== undefined && after !== before) recency = { ...recency, [spec.key]: after };
        break;
      }
      case 'sequence': {
        const before = sequences[spec.key];
        const after = applySequenceEvent({ state: before, spec, event });
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
