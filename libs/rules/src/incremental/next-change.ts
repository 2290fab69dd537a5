import type { Rule } from '@shoal/contracts';
import { compileRule, toMs, type Instant } from '../evaluation/compile';
import type {
  CompiledCondition,
  CompiledContacts,
  CompiledGroup,
  CompiledLeaf,
} from '../evaluation/condition';
import { assertNever } from '../language/errors';
import type { RuleLimits } from '../language/limits';
import type { EvaluationState } from './state';

// When a rule's value next changes with time alone: the instant a durable timer should fire.
// Leaves name the instants at which alone they can change; this file searches them.

/**
 * `at`: the value cannot change before this instant (same state, no new event). `certain`: it
 * does change at `at`; otherwise the search gave up and `at` is only an instant to re-check at.
 */
export interface NextChange {
  readonly at: number;
  readonly certain: boolean;
}

/** How many candidate instants a next-change search examines before settling for a re-check instant. */
export const NEXT_CHANGE_MAX_STEPS = 256;

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
    next: (from) => conditionChange(root, state, from),
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

/** Follows `next` from `now` until the value differs, examining at most `maxSteps` instants. */
function iterateToChange({
  now,
  next,
  valueAt,
  maxSteps,
}: {
  now: number;
  next: (from: number) => number | undefined;
  valueAt: (instant: number) => boolean;
  maxSteps: number;
}): NextChange | undefined {
  const initial = valueAt(now);
  let at = now;
  for (let step = 0; step < maxSteps; step += 1) {
    const candidate = next(at);
    if (candidate === undefined) return undefined;
    if (valueAt(candidate) !== initial) return { at: candidate, certain: true };
    at = candidate;
  }
  return { at, certain: false };
}

/**
 * An instant after `now` before which the condition's value cannot change (with the same
 * state), or undefined when it never changes. Exact for leaves; for groups the earliest child
 * change that could matter.
 */
function conditionChange(
  condition: CompiledCondition,
  state: EvaluationState,
  now: number,
): number | undefined {
  switch (condition.kind) {
    case 'leaf':
      return leafChange(condition, state, now);
    case 'group':
      return groupChange(condition, state, now);
    case 'contacts':
      return contactsChange(condition, state, now);
    default:
      return assertNever(condition, 'compiled condition');
  }
}

/** The first of the leaf's candidate instants at which its value differs from now's. */
function leafChange(leaf: CompiledLeaf, state: EvaluationState, now: number): number | undefined {
  const initial = leaf.evaluate(state, now);
  for (const at of leaf.changeCandidates(state, now)) {
    if (leaf.evaluate(state, at) !== initial) return at;
  }
  return undefined;
}

/**
 * A child whose value alone decides the group (false for all, true for any/none) and that never
 * changes keeps the group constant; otherwise the group can change when any child does.
 */
function groupChange(
  group: CompiledGroup,
  state: EvaluationState,
  now: number,
): number | undefined {
  const deciding = group.operator !== 'all';
  let earliest: number | undefined;
  for (const child of group.children) {
    const next = conditionChange(child, state, now);
    if (next === undefined) {
      if (child.evaluate(state, now) === deciding) return undefined;
    } else if (earliest === undefined || next < earliest) {
      earliest = next;
    }
  }
  return earliest;
}

/** Steps through the contacts' own changes until the count passes or fails differently. */
function contactsChange(
  contacts: CompiledContacts,
  state: EvaluationState,
  now: number,
): number | undefined {
  const members = state.contacts ?? [];
  return iterateToChange({
    now,
    maxSteps: NEXT_CHANGE_MAX_STEPS,
    valueAt: (at) => contacts.evaluate(state, at),
    next: (from) => {
      let earliest: number | undefined;
      for (const member of members) {
        const next = conditionChange(contacts.member, member, from);
        if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
      }
      return earliest;
    },
  })?.at;
}
