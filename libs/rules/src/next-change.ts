import type { Rule } from '@shoal/contracts';
import { compileRule, iterateToChange, toMs, type Instant } from './compile';
import type { RuleLimits } from './limits';
import type { EvaluationState } from './state';

// When a rule's value next changes with time alone: the instant a durable timer should fire.

/** How many candidate instants are examined before settling for a conservative answer. */
export const NEXT_CHANGE_MAX_STEPS = 1000;

/**
 * The earliest instant after `now` at which the rule's value differs from its value at `now`,
 * given this state and no new events; undefined when it never changes. Leaves report the exact
 * instants at which their own values change; the rule's value is checked at each in turn, so the
 * answer is exact. Only if the value survives NEXT_CHANGE_MAX_STEPS candidate instants is the
 * last of them returned: the value does not change before it (re-evaluate then).
 */
export function nextChangeAt({
  rule,
  state,
  now,
  limits,
}: {
  rule: Rule;
  state: EvaluationState;
  now: Instant;
  limits?: Partial<RuleLimits>;
}): number | undefined {
  const { root } = compileRule({ rule, limits });
  return iterateToChange({
    now: toMs(now),
    maxSteps: NEXT_CHANGE_MAX_STEPS,
    valueAt: (at) => root.evaluate(state, at),
    next: (from) => root.nextChange(state, from),
  });
}
