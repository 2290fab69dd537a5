import { compileRule, toMs, type CompiledRule, type RuleQuery } from '../evaluation/compile';
import type {
  CompiledCondition,
  CompiledContacts,
  CompiledGroup,
  CompiledLeaf,
} from '../evaluation/condition';
import { assertNever } from '../language/errors';
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

/**
 * How many candidate instants a next-change search examines before settling for a re-check
 * instant; an account rule's search may examine two more per contact.
 */
export const NEXT_CHANGE_MAX_STEPS = 256;

/** What is left of a search's allowance of candidate instants (the rule's and its contacts'). */
interface Budget {
  steps: number;
}

/**
 * The earliest instant after `now` at which the rule's value differs from its value at `now`,
 * given this state and no new events; undefined when it never changes. Every leaf reports the
 * exact instant its own value next changes; the rule is re-evaluated at each such instant in
 * turn until its value differs. If the allowance of instants (NEXT_CHANGE_MAX_STEPS, plus two per
 * contact) is used up without a change (e.g. two anniversaries that never fall on the same day),
 * the answer is not `certain`: nothing changes before `at`, and the caller re-checks then.
 * `compiled`, the rule's compiled form when the caller holds it, saves looking it up per call.
 */
export function nextChange({
  rule,
  state,
  now,
  limits,
  compiled,
}: RuleQuery & { readonly compiled?: CompiledRule }): NextChange | undefined {
  const { root } = compiled ?? compileRule({ rule, limits });
  const budget: Budget = { steps: NEXT_CHANGE_MAX_STEPS + 2 * (state.contacts?.length ?? 0) };
  const start = toMs(now);
  const initial = root.evaluate(state, start);
  let at = start;
  while (budget.steps > 0) {
    budget.steps -= 1;
    const candidate = conditionChange(root, state, at, budget);
    if (candidate === undefined) return undefined;
    if (root.evaluate(state, candidate) !== initial) return { at: candidate, certain: true };
    at = candidate;
  }
  return { at, certain: false };
}

/** The instant of nextChange (certain or a re-check); undefined when the value never changes. */
export function nextChangeAt(query: RuleQuery): number | undefined {
  return nextChange(query)?.at;
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
  budget: Budget,
): number | undefined {
  switch (condition.kind) {
    case 'leaf':
      return leafChange(condition, state, now);
    case 'group':
      return groupChange(condition, state, now, budget);
    case 'contacts':
      return contactsChange(condition, state, now, budget);
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
  budget: Budget,
): number | undefined {
  const deciding = group.operator !== 'all';
  let earliest: number | undefined;
  for (const child of group.children) {
    const next = conditionChange(child, state, now, budget);
    if (next === undefined) {
      if (child.evaluate(state, now) === deciding) return undefined;
    } else if (earliest === undefined || next < earliest) {
      earliest = next;
    }
  }
  return earliest;
}

/**
 * The first instant at which the count of matching contacts passes or fails differently. Each
 * contact's next change waits in a queue by instant; at each instant only the contacts due then
 * are evaluated again and the count is kept up to date, so following k contact changes costs
 * about k log n evaluations, not k times n (measured: scripts/contacts-next-change.js). A count
 * that passes (or fails) whatever it is never changes. Each instant reached uses one step of the
 * search's allowance; when none is left it settles for the last instant reached, before which
 * nothing changes.
 */
function contactsChange(
  contacts: CompiledContacts,
  state: EvaluationState,
  now: number,
  budget: Budget,
): number | undefined {
  const members = state.contacts ?? [];
  const passes = Array.from({ length: members.length + 1 }, (_, count) => contacts.passes(count));
  if (passes.every((value) => value === passes[0])) return undefined;
  const matching = members.map((member) => contacts.member.evaluate(member, now));
  let count = matching.filter(Boolean).length;
  const initial = passes[count];
  const queue = new DueContacts();
  members.forEach((member, contact) => {
    const at = conditionChange(contacts.member, member, now, budget);
    if (at !== undefined) queue.push({ at, contact });
  });
  let at = now;
  while (budget.steps > 0) {
    budget.steps -= 1;
    const due = queue.takeEarliest();
    if (due === undefined) return undefined;
    at = due.at;
    for (const contact of due.contacts) {
      const member = members[contact] as EvaluationState;
      const matches = contacts.member.evaluate(member, at);
      if (matches !== matching[contact]) count += matches ? 1 : -1;
      matching[contact] = matches;
      const next = conditionChange(contacts.member, member, at, budget);
      if (next !== undefined) queue.push({ at: next, contact });
    }
    if (passes[count] !== initial) return at;
  }
  return at;
}

interface Due {
  readonly at: number;
  readonly contact: number;
}

/** Contacts by the instant of their next possible change, earliest first (a binary heap). */
class DueContacts {
  private readonly heap: Due[] = [];

  push(due: Due): void {
    this.heap.push(due);
    let child = this.heap.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (this.at(parent) <= this.at(child)) return;
      this.swap(parent, child);
      child = parent;
    }
  }

  /** Removes the contacts due at the earliest instant queued; undefined when none is. */
  takeEarliest(): { at: number; contacts: number[] } | undefined {
    const first = this.heap[0];
    if (first === undefined) return undefined;
    const contacts: number[] = [];
    while (this.heap.length > 0 && this.at(0) === first.at) {
      contacts.push((this.heap[0] as Due).contact);
      this.removeFirst();
    }
    return { at: first.at, contacts };
  }

  private removeFirst(): void {
    const last = this.heap.pop() as Due;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    let parent = 0;
    for (;;) {
      let earliest = parent;
      for (const child of [2 * parent + 1, 2 * parent + 2]) {
        if (child < this.heap.length && this.at(child) < this.at(earliest)) earliest = child;
      }
      if (earliest === parent) return;
      this.swap(parent, earliest);
      parent = earliest;
    }
  }

  private at(position: number): number {
    return (this.heap[position] as Due).at;
  }

  private swap(a: number, b: number): void {
    const held = this.heap[a] as Due;
    this.heap[a] = this.heap[b] as Due;
    this.heap[b] = held;
  }
}
