import { RuleError, RuleErrorCode } from '../language/errors';
import type { RuleEvent } from './state';

// Folding an event into one spec's state. Folds return the state they were given (undefined
// included) when the event changes nothing, so callers can tell by identity.

/** Folds one event into the state one spec keeps; the state it was given when nothing changes. */
export type Fold<Spec, State> = (args: {
  state: State | undefined;
  spec: Spec;
  event: RuleEvent;
}) => State | undefined;

/** Refuses an event without a valid timestamp (a finite instant within Date's range). */
export function checkEvent(event: RuleEvent): void {
  if (!Number.isFinite(event.timestamp) || Math.abs(event.timestamp) >= 8.64e15) {
    throw new RuleError(
      RuleErrorCode.InvalidArgument,
      `event "${event.name}" has no valid timestamp`,
    );
  }
}

/** `fold` for an event nobody has checked yet (applyEventToState checks it once for every spec). */
export function checkingEvent<Spec, State>(fold: Fold<Spec, State>): Fold<Spec, State> {
  return (args) => {
    checkEvent(args.event);
    return fold(args);
  };
}
