import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { ConditionExplanationSchema, type ConditionExplanation } from '@shoal/contracts';
import type { EvaluationState } from '../incremental/state';
import type { RuleLimits } from '../language/limits';

// What compiling a condition gives: a node that evaluates against a subject's evaluation state
// and explains itself. Leaves also name the instants at which alone their value can change as
// time passes; finding the instant it does change is next-change.ts's business.

/** What every condition of a rule is compiled with. */
export interface Context {
  readonly timeZone: string;
  readonly limits: RuleLimits;
}

interface Evaluated {
  evaluate(state: EvaluationState, now: number): boolean;
  explain(state: EvaluationState, now: number): ConditionExplanation;
}

/** A condition without child conditions. */
export interface CompiledLeaf extends Evaluated {
  readonly kind: 'leaf';
  /**
   * The instants after `now`, ascending, at which alone the value can change as time passes
   * (the same state, no new event); not every one is a change. Empty when it never changes.
   */
  changeCandidates(state: EvaluationState, now: number): Iterable<number>;
}

export interface CompiledGroup extends Evaluated {
  readonly kind: 'group';
  readonly operator: 'all' | 'any' | 'none';
  readonly children: readonly CompiledCondition[];
}

/** An account's count of the member profiles (contacts) meeting `member`. */
export interface CompiledContacts extends Evaluated {
  readonly kind: 'contacts';
  readonly member: CompiledCondition;
  /** Whether this many matching contacts pass the count comparison. */
  passes(count: number): boolean;
}

export type CompiledCondition = CompiledLeaf | CompiledGroup | CompiledContacts;

/** `instants` after `now`, ascending, each once. */
export function ascendingAfter(now: number, instants: Iterable<number>): number[] {
  const later = new Set<number>();
  for (const instant of instants) if (instant > now) later.add(instant);
  return [...later].sort((a, b) => a - b);
}

export function explanation(init: {
  path: string;
  matched: boolean;
  summary: string;
  observed?: JsonValue | undefined;
  children?: ConditionExplanation[];
  notes?: string[];
}): ConditionExplanation {
  return create(ConditionExplanationSchema, {
    path: init.path,
    matched: init.matched,
    summary: init.summary,
    observed: init.observed === undefined ? undefined : fromJson(ValueSchema, init.observed),
    children: init.children ?? [],
    notes: init.notes ?? [],
  });
}
