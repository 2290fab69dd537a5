import { foldAggregateEvent, pruneBuckets } from './aggregate';
import { checkEvent } from './fold';
import { assertNever } from '../language/errors';
import { foldRecencyEvent } from './recency';
import { foldSequenceEvent, pruneSequence } from './sequence';
import type {
  AggregateSpec,
  AggregateState,
  EvaluationState,
  RecencySpec,
  RecencyState,
  RuleEvent,
  SequenceSpec,
  SequenceState,
  StateSpec,
} from './state';

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
  return updateEntries(state, specs, {
    aggregate: (spec, entry) => foldAggregateEvent({ state: entry, spec, event }),
    recency: (spec, entry) => foldRecencyEvent({ state: entry, spec, event }),
    sequence: (spec, entry) => foldSequenceEvent({ state: entry, spec, event }),
  });
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
  return updateEntries(state, specs, {
    aggregate: (spec, entry) => pruneBuckets({ state: entry, spec, now }),
    // First and last occurrences are all-time extremes: nothing ages out.
    recency: (_spec, entry) => entry,
    sequence: (spec, entry) => pruneSequence({ state: entry, spec, now }),
  });
}

/** A new state of one spec's entry, or the entry itself when nothing changes. */
interface EntryUpdates {
  aggregate(spec: AggregateSpec, entry: AggregateState | undefined): AggregateState | undefined;
  recency(spec: RecencySpec, entry: RecencyState | undefined): RecencyState | undefined;
  sequence(spec: SequenceSpec, entry: SequenceState | undefined): SequenceState | undefined;
}

function updateEntries(
  state: EvaluationState,
  specs: readonly StateSpec[],
  update: EntryUpdates,
): EvaluationState {
  let { aggregates, recency, sequences } = state;
  for (const spec of specs) {
    switch (spec.kind) {
      case 'aggregate':
        aggregates = withEntry(aggregates, spec.key, update.aggregate(spec, aggregates[spec.key]));
        break;
      case 'recency':
        recency = withEntry(recency, spec.key, update.recency(spec, recency[spec.key]));
        break;
      case 'sequence':
        sequences = withEntry(sequences, spec.key, update.sequence(spec, sequences[spec.key]));
        break;
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

/** `entries` with `key` holding `value`; `entries` itself when it already does (or value is undefined). */
function withEntry<T>(
  entries: Readonly<Record<string, T>>,
  key: string,
  value: T | undefined,
): Readonly<Record<string, T>> {
  return value === undefined || value === entries[key] ? entries : { ...entries, [key]: value };
}
