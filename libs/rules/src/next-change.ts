import type { Rule } from '@shoal/contracts';
import { compileRule, toMs, type Instant } from './compile';
import type { RuleLimits } from './limits';
import type { EvaluationState } from './state';

// When a rule's value next changes with time alone: the instant a durable timer should fire.

/** How many candidate instants are examined before settling for a re-check instant. */
export const NEXT_CHANGE_MAX_STEPS = 256;

/**
 * `at`: the value cannot change before this instant (with this state and no new event).
 * `certain`: it does change at `at`. When not certain (the search examined
 * NEXT_CHANGE_MAX_STEPS candidate instants without finding a change, e.g. two anniversaries
 * that never fall on the same day), `at` is only the instant to re-check at.
 */
export interface NextChange {
  readonly at: number;
  readonly certain: boolean;
}

/**
 * The earliest instant after `now` at which the rule's value differs from its value at `now`,
 * given this state and no new events; undefined when it never changes. Every leaf reports the
 * exact instant its own value next changes; the rule is re-evaluated at each such instant in
 * turn until its value differs.
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
  const start = toMs(now);
  const initial = root.evaluate(state, start);
  let at = start;
  for (let step = 0; step < NEXT_CHANGE_MAX_STEPS; step += 1) {
    const candidate = root.nextChange(state, at);
    if (candidate === undefined) return undefined;
    if (root.evaluate(state, candidate) !== initial) return { at: candidate, certain: true };
    at = candidate;
  }
  return { at, certain: false };
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
