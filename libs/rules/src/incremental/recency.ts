import { compiledSpec } from './compiled-spec';
import { checkingEvent, type Fold } from './fold';
import type { RecencySpec, RecencyState } from './state';

// First and last occurrences: all-time extremes, so order of arrival does not matter.

/** Folds one event (already checked) into a first/last occurrence state. */
export const foldRecencyEvent: Fold<RecencySpec, RecencyState> = ({ state, spec, event }) => {
  if (!compiledSpec(spec).matches(event)) return state;
  const instant = event.timestamp;
  if (state === undefined) return { first: instant, last: instant };
  if (instant >= state.first && instant <= state.last) return state;
  return { first: Math.min(state.first, instant), last: Math.max(state.last, instant) };
};

/** Folds one event into a first/last occurrence state; undefined until a matching event is seen. */
export const applyRecencyEvent = checkingEvent(foldRecencyEvent);
