import type { Condition, Rule } from '@shoal/contracts';
import type { EvaluationState } from '../incremental/state';
import { numericOperator } from '../language/comparison';
import { RuleError, RuleErrorCode, assertNever } from '../language/errors';
import { resolveLimits, type RuleLimits } from '../language/limits';
import { validateRule } from '../language/validate';
import { canonicalTimeZone } from '../time/zone';
import { compileAggregate } from './aggregate-condition';
import { explanation, type CompiledCondition, type CompiledGroup, type Context } from './condition';
import { compileContacts } from './contacts-condition';
import {
  compileListMembership,
  compileSegmentMembership,
  compileTag,
} from './membership-conditions';
import { compileRecency } from './recency-condition';
import { compileSequence } from './sequence-condition';
import { compileTrait } from './trait-condition';

// Compiles a rule into a tree of conditions that evaluate against a subject's evaluation state
// and explain themselves; each kind of condition is compiled in its own file.

/** An instant: milliseconds since the epoch, or a Date. */
export type Instant = number | Date;

export function toMs(instant: Instant): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms))
    throw new RuleError(RuleErrorCode.InvalidArgument, `not a valid instant: ${String(instant)}`);
  return ms;
}

export interface CompiledRule {
  readonly root: CompiledCondition;
}

/** A question about a rule for one subject: the rule, the subject's evaluation state and an instant. */
export interface RuleQuery {
  readonly rule: Rule;
  readonly state: EvaluationState;
  readonly now: Instant;
  readonly limits?: Partial<RuleLimits>;
}

/** The value of a rule for a subject's state at an instant. */
export type RulePredicate = (state: EvaluationState, now: Instant) => boolean;

const compiledRules = new WeakMap<Rule, Map<string, CompiledRule>>();
const DEFAULT_LIMITS_KEY = JSON.stringify(resolveLimits(undefined));

/** Compiles (once per rule object and limits) a rule that must pass validation. */
export function compileRule({
  rule,
  limits,
}: {
  rule: Rule;
  limits?: Partial<RuleLimits>;
}): CompiledRule {
  const resolved = resolveLimits(limits);
  // the default limits' key is computed once: callers evaluating per event use them
  const limitsKey = limits === undefined ? DEFAULT_LIMITS_KEY : JSON.stringify(resolved);
  let byLimits = compiledRules.get(rule);
  const cached = byLimits?.get(limitsKey);
  if (cached !== undefined) return cached;
  const { violations } = validateRule({ rule, limits: resolved });
  if (violations.length > 0) {
    throw new RuleError(
      RuleErrorCode.InvalidRule,
      `the rule is invalid: ${violations.map((violation) => `${violation.path}: ${violation.message}`).join('; ')}`,
      violations,
    );
  }
  const compiled: CompiledRule = {
    root: compileCondition(rule.condition as Condition, 'condition', {
      timeZone: canonicalTimeZone(rule.timeZone),
      limits: resolved,
    }),
  };
  if (byLimits === undefined) {
    byLimits = new Map();
    compiledRules.set(rule, byLimits);
  }
  byLimits.set(limitsKey, compiled);
  return compiled;
}

/** Compiles a rule to a fast predicate over a subject's evaluation state. Throws RuleError for an invalid rule. */
export function compile({
  rule,
  limits,
}: {
  rule: Rule;
  limits?: Partial<RuleLimits>;
}): RulePredicate {
  const { root } = compileRule({ rule, limits });
  return (state, now) => root.evaluate(state, toMs(now));
}

function compileCondition(condition: Condition, path: string, context: Context): CompiledCondition {
  const kind = condition.kind;
  switch (kind.case) {
    case 'all':
    case 'any':
    case 'none':
      return compileGroup(
        kind.case,
        kind.value.conditions.map((child, index) =>
          compileCondition(child, `${path}.${kind.case}.conditions[${index}]`, context),
        ),
        path,
      );
    case 'trait':
      return compileTrait(kind.value, `${path}.trait`, context);
    case 'event':
      return kind.value.measure.case === 'firstSeen' || kind.value.measure.case === 'lastSeen'
        ? compileRecency(kind.value, `${path}.event`, context)
        : compileAggregate(kind.value, `${path}.event`, context);
    case 'sequence':
      return compileSequence(kind.value, `${path}.sequence`, context);
    case 'inSegment':
    case 'notInSegment':
      return compileSegmentMembership(kind.value, kind.case === 'inSegment', path);
    case 'inList':
    case 'notInList':
      return compileListMembership(kind.value, kind.case === 'inList', path);
    case 'hasTag':
    case 'lacksTag':
      return compileTag(kind.value, kind.case === 'hasTag', path);
    case 'contacts':
      return compileContacts(
        compileCondition(kind.value.where as Condition, `${path}.contacts.where`, context),
        numericOperator(kind.value.count?.operator ?? { case: undefined }),
        `${path}.contacts`,
      );
    case undefined:
      throw new RuleError(RuleErrorCode.InvalidRule, `${path}: a condition needs a kind`);
    default:
      return assertNever(kind, 'condition');
  }
}

function compileGroup(
  operator: 'all' | 'any' | 'none',
  children: CompiledCondition[],
  path: string,
): CompiledGroup {
  const evaluate = (state: EvaluationState, now: number): boolean => {
    switch (operator) {
      case 'all':
        return children.every((child) => child.evaluate(state, now));
      case 'any':
        return children.some((child) => child.evaluate(state, now));
      case 'none':
        return !children.some((child) => child.evaluate(state, now));
      default:
        return assertNever(operator, 'group');
    }
  };
  return {
    kind: 'group',
    operator,
    children,
    evaluate,
    explain: (state, now) => {
      const explained = children.map((child) => child.explain(state, now));
      const matching = explained.filter((child) => child.matched).length;
      const needs = operator === 'all' ? 'all' : operator === 'any' ? 'at least one' : 'none';
      return explanation({
        path,
        matched: evaluate(state, now),
        summary: `${operator}: ${matching} of ${children.length} conditions match (needs ${needs})`,
        children: explained,
      });
    },
  };
}
