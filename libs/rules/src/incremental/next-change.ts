import type { Rule } from '@shoal/contracts';
import {
  NEXT_CHANGE_MAX_STEPS,
  compileRule,
  iterateToChange,
  toMs,
  type Instant,
  type NextChange,
} from '../evaluation/compile';
import type { RuleLimits } from '../language/limits';
import type { EvaluationState } from './state';

export { NEXT_CHANGE_MAX_STEPS, type NextChange };

// When a rule's value next changes with time alone: the instant a durable timer should fire.

/**
 * The earliest instant after `now` at which the rule's value differs from its value at `now`,
 * given this state and no new events; undefined when it never changes. Every leaf reports the
 * exact instant its own value next changes; the rule is re-evaluated at each such instant in
 * turn until its value differs. If NEXT_CHANGE_MAX_STEPS instants pass without a change (e.g.
 * two anniversaries that never fall on the same day), the answer is not `certain`: nothing
 * changes before `at`, and the caller re-checks then.
 */
export function nextChange({
  rule,
  state,
  now,
  limits,
}: {
  rule: Rule;
  state: EvaluationState;
  now: Instant;
  limits?: Partial<RuleLimits>;
}): NextChange | undefined {
  const { root } = compileRule({ rule, limits });
  return iterateToChange({
    now: toMs(now),
    maxSteps: NEXT_CHANGE_MAX_STEPS,
    valueAt: (at) => root.evaluate(state, at),
    next: (from) => root.nextChange(state, from),
  });
}

/** The instant of nextChange (certain or a re-check); undefined when the value never changes. */
export function nextChangeAt(args: {
  rule: Rule;
  state: EvaluationState;
  now: Instant;
  limits?: Partial<RuleLimits>;
}): number | undefined {
  return nextChange(args)?.at;
}
