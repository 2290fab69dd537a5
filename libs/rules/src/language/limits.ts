/**
 * Bounds on rules and on the state kept to evaluate them. Validation enforces the first group;
 * the caps shape the evaluation state, so they are part of every state spec's key.
 */
export interface RuleLimits {
  /** Most condition nodes (groups and leaves) in one rule. */
  readonly maxConditions: number;
  /** Deepest nesting of conditions; the rule's top condition is at depth 1. */
  readonly maxDepth: number;
  /** Most steps in one sequence. */
  readonly maxSequenceSteps: number;
  /** Most values in an `in` / `notIn` list. */
  readonly maxListValues: number;
  /** Longest string in a rule (compared value, event name, path, tag), in characters. */
  readonly maxOperandLength: number;
  /** How far back event history is retained; windows reaching further are refused. */
  readonly maxHistoryDays: number;
  /** Largest relative time operand or span, in days (about a century). */
  readonly maxRelativeDays: number;
  /** Distinct values remembered per bucket; distinct-count thresholds may not exceed it. */
  readonly distinctValuesCap: number;
  /** Most recent occurrences remembered per sequence step (and for the follow-up event). */
  readonly sequenceOccurrenceCap: number;
}

export const DEFAULT_LIMITS: RuleLimits = {
  maxConditions: 100,
  maxDepth: 8,
  maxSequenceSteps: 8,
  maxListValues: 1000,
  maxOperandLength: 2048,
  maxHistoryDays: 800,
  maxRelativeDays: 36_600,
  distinctValuesCap: 200,
  sequenceOccurrenceCap: 100,
};

export function resolveLimits(limits: Partial<RuleLimits> | undefined): RuleLimits {
  return limits === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...limits };
}
