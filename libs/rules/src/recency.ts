import { checkEvent, eventMatcher } from './aggregate';
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
  const matches = eventMatcher({
    cacheKey: spec.key,
    event: spec.event,
    where: spec.where,
    timeZone: spec.timeZone,
  });
  if (!matches(event)) return state;
  const instant = event.timestamp;
  if (state === undefined) return { first: instant, last: instant };
  if (instant >= state.first && instant <= state.last) return state;
  return { first: Math.min(state.first, instant), last: Math.max(state.last, instant) };
}
