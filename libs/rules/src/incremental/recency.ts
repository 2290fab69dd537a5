import { checkEvent } from './aggregate';
import { compiledSpec } from './compiled-spec';
import type { RecencySpec, RecencyState, RuleEvent } from './state';

// First and last occurrences: all-time extremes, so order of arrival does not matter.

/** Folds one event into a first/last occurrence state; undefined until a matching event is seen. */
export function applyRecencyEvent({
  state,
  spec,
  event,
}: {
  state: RecencyState | undefined;
  spec: RecencySpec;
  event: RuleEvent;
}): RecencyState | undefined {
  checkEvent(event);
  return foldRecencyEvent({ state, spec, event });
}

/** applyRecencyEvent for an event already checked. */
export function foldRecencyEvent({
  state,
  spec,
  event,
}: {
  state: RecencyState | undefined;
  spec: RecencySpec;
  event: RuleEvent;
}): RecencyState | undefined {
  if (!compiledSpec(spec).matches(event)) return state;
  const instant = event.timestamp;
  if (state === undefined) return { first: instant, last: instant };
  if (instant >= state.first && instant <= state.last) return state;
  return { first: Math.min(state.first, instant), last: Math.max(state.last, instant) };
}
