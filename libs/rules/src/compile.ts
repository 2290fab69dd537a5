import type { JsonValue } from '@bufbuild/protobuf';
import { create, fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  ConditionExplanationSchema,
  type Condition,
  type ConditionExplanation,
  type EventCondition,
  type FieldCondition,
  type Rule,
  type SequenceCondition,
} from '@shoal/contracts';
import { bucketsInWindow, measureReader, type MeasureValue } from './aggregate';
import {
  compareNumber,
  describeComparison,
  numericOperator,
  type NumericOperator,
} from './comparison';
import { aggregateSpecOf, recencySpecOf, sequenceSpecOf, windowPlanOf } from './dependencies';
import { describeWindow } from './describe';
import { RuleError, RuleErrorCode, assertNever } from './errors';
import { compileField } from './field';
import { resolveLimits, type RuleLimits } from './limits';
import { completeChains, followUpAfter, type Chain, type ChainShape } from './sequence';
import type { EvaluationState } from './state';
import { compileTimeTest, describeSpan, isTimeOperator, spanMs } from './time-test';
import { validateRule } from './validate';
import { formatInstant, resolvePath } from './values';
import {
  bucketIndex,
  bucketStart,
  canonicalTimeZone,
  windowEnterIndex,
  windowLeaveIndex,
  windowRangeAt,
  type WindowPlan,
} from './windows';

// Compiles a rule into a tree of nodes that evaluate against a subject's evaluation state, say
// when their value can next change with time alone, and explain themselves.

/** An instant: milliseconds since the epoch, or a Date. */
export type Instant = number | Date;

export function toMs(instant: Instant): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms))
    throw new RuleError(RuleErrorCode.InvalidArgument, `not a valid instant: ${String(instant)}`);
  return ms;
}

export interface CompiledCondition {
  evaluate(state: EvaluationState, now: number): boolean;
  /**
   * An instant after `now` before which the value cannot change (with the same state), or
   * undefined when it never changes. Exact for leaves; for groups the earliest child change
   * that could matter.
   */
  nextChange(state: EvaluationState, now: number): number | undefined;
  explain(state: EvaluationState, now: number): ConditionExplanation;
}

export interface CompiledRule {
  readonly root: CompiledCondition;
}

/** The value of a rule for a subject's state at an instant. */
export type RulePredicate = (state: EvaluationState, now: Instant) => boolean;

interface Context {
  readonly timeZone: string;
  readonly limits: RuleLimits;
}

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

/** The first candidate instant after `now` at which `valueAt` differs from its value at `now`. */
function firstChange(
  now: number,
  candidates: readonly number[],
  valueAt: (instant: number) => boolean,
): number | undefined {
  const later = [...new Set(candidates.filter((instant) => instant > now))].sort((a, b) => a - b);
  if (later.length === 0) return undefined;
  const initial = valueAt(now);
  return later.find((instant) => valueAt(instant) !== initial);
}

/**
 * `at`: the value cannot change before this instant (same state, no new event). `certain`: it
 * does change at `at`; otherwise the search gave up and `at` is only an instant to re-check at.
 */
export interface NextChange {
  readonly at: number;
  readonly certain: boolean;
}

/** Follows `next` from `now` until the value differs, examining at most `maxSteps` instants. */
export function iterateToChange({
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

function explanation(init: {
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
    case 'notInSegment': {
      const wanted = kind.case === 'inSegment';
      const id = kind.value;
      return staticLeaf(path, (state) => {
        const since = Object.prototype.hasOwnProperty.call(state.segments, id)
          ? state.segments[id]
          : undefined;
        const member = since !== undefined;
        return {
          matched: member === wanted,
          summary: `${member ? `member of segment ${id} since ${formatInstant(since as number)}` : `not a member of segment ${id}`} (needs ${wanted ? 'member' : 'not a member'})`,
          observed: member,
        };
      });
    }
    case 'inList':
    case 'notInList': {
      const wanted = kind.case === 'inList';
      const id = kind.value;
      return staticLeaf(path, (state) => {
        const onList = state.lists.includes(id);
        return {
          matched: onList === wanted,
          summary: `${onList ? 'on' : 'not on'} static list ${id} (needs ${wanted ? 'on' : 'not on'} it)`,
          observed: onList,
        };
      });
    }
    case 'hasTag':
    case 'lacksTag': {
      const wanted = kind.case === 'hasTag';
      const tag = kind.value;
      return staticLeaf(path, (state) => {
        const tagged = state.tags.includes(tag);
        return {
          matched: tagged === wanted,
          summary: `${tagged ? 'has' : 'does not have'} tag "${tag}" (needs ${wanted ? 'it' : 'it absent'})`,
          observed: tagged,
        };
      });
    }
    case 'contacts':
      return compileContacts(
        kind.value.where as Condition,
        numericOperator(kind.value.count?.operator ?? { case: undefined }),
        `${path}.contacts`,
        context,
      );
    case undefined:
      throw new RuleError(RuleErrorCode.InvalidRule, `${path}: a condition needs a kind`);
    default:
      return assertNever(kind, 'condition');
  }
}

interface Observation {
  matched: boolean;
  summary: string;
  observed?: JsonValue | undefined;
  notes?: string[];
}

function staticLeaf(
  path: string,
  observe: (state: EvaluationState) => Observation,
): CompiledCondition {
  return {
    evaluate: (state) => observe(state).matched,
    nextChange: () => undefined,
    explain: (state) => explanation({ path, ...observe(state) }),
  };
}

function compileGroup(
  kind: 'all' | 'any' | 'none',
  children: CompiledCondition[],
  path: string,
): CompiledCondition {
  const evaluate = (state: EvaluationState, now: number): boolean => {
    switch (kind) {
      case 'all':
        return children.every((child) => child.evaluate(state, now));
      case 'any':
        return children.some((child) => child.evaluate(state, now));
      case 'none':
        return !children.some((child) => child.evaluate(state, now));
      default:
        return assertNever(kind, 'group');
    }
  };
  // A child whose value alone decides the group (false for all, true for any/none) and that never
  // changes keeps the group constant; otherwise the group can change when any child does.
  const deciding = kind !== 'all';
  return {
    evaluate,
    nextChange: (state, now) => {
      let earliest: number | undefined;
      for (const child of children) {
        const next = child.nextChange(state, now);
        if (next === undefined) {
          if (child.evaluate(state, now) === deciding) return undefined;
        } else if (earliest === undefined || next < earliest) {
          earliest = next;
        }
      }
      return earliest;
    },
    explain: (state, now) => {
      const explained = children.map((child) => child.explain(state, now));
      const matching = explained.filter((child) => child.matched).length;
      const needs = kind === 'all' ? 'all' : kind === 'any' ? 'at least one' : 'none';
      return explanation({
        path,
        matched: evaluate(state, now),
        summary: `${kind}: ${matching} of ${children.length} conditions match (needs ${needs})`,
        children: explained,
      });
    },
  };
}

function compileTrait(
  condition: FieldCondition,
  path: string,
  context: Context,
): CompiledCondition {
  const field = compileField({ condition, timeZone: context.timeZone });
  const evaluate = (state: EvaluationState, now: number): boolean =>
    field.test(state.traits, now, state.traits);
  return {
    evaluate,
    nextChange: (state, now) =>
      field.relative
        ? firstChange(now, field.breakpoints(state.traits, now), (at) => evaluate(state, at))
        : undefined,
    explain: (state, now) => {
      const observed = resolvePath(state.traits, condition.path);
      const seen = observed === undefined ? 'is missing' : `= ${JSON.stringify(observed)}`;
      return explanation({
        path,
        matched: evaluate(state, now),
        summary: `trait ${condition.path} ${seen} (needs ${field.describe(now, state.traits)})`,
        observed,
      });
    },
  };
}

/**
 * The instants after `now` at which one of these buckets enters or leaves the window. Bucket
 * indexes are compared first, so only buckets starting after `now` are turned into instants.
 * The current index is kept: where clocks fall back at a time that is no bucket boundary
 * (Pacific/Chatham, 03:45 to 02:45, in hour buckets), the current bucket starts again after `now`.
 */
function bucketCandidates(
  plan: WindowPlan,
  buckets: Iterable<number>,
  now: number,
  timeZone: string,
): number[] {
  if (plan.kind !== 'sliding') return [];
  const current = bucketIndex(plan.unit, now, timeZone);
  const indexes = new Set<number>();
  for (const bucket of new Set(buckets)) {
    const enter = windowEnterIndex(plan.shape, bucket);
    if (enter >= current) indexes.add(enter);
    const leave = windowLeaveIndex(plan.shape, bucket);
    if (leave >= current) indexes.add(leave);
  }
  return [...indexes].map((index) => bucketStart(plan.unit, index, timeZone));
}

function windowInstants(
  plan: WindowPlan,
  now: number,
  timeZone: string,
): { from: number; to: number } {
  switch (plan.kind) {
    case 'all':
      return { from: -Infinity, to: Infinity };
    case 'range':
      return { from: plan.from, to: plan.to };
    case 'sliding': {
      const [low, high] = windowRangeAt(plan, now, timeZone);
      return {
        from: bucketStart(plan.unit, low, timeZone),
        to: bucketStart(plan.unit, high + 1, timeZone),
      };
    }
    default:
      return assertNever(plan, 'window plan');
  }
}

function compileAggregate(
  event: EventCondition,
  path: string,
  context: Context,
): CompiledCondition {
  const spec = aggregateSpecOf({ event, timeZone: context.timeZone, limits: context.limits });
  const measure = event.measure;
  if (
    spec === undefined ||
    measure.case === undefined ||
    measure.case === 'firstSeen' ||
    measure.case === 'lastSeen'
  ) {
    throw new RuleError(RuleErrorCode.InvalidRule, `${path}: not an aggregate`);
  }
  const operator: NumericOperator = numericOperator(measure.value.operator);
  const plan = windowPlanOf(event.window, context.timeZone);
  const cap = spec.distinctValuesCap;
  const readMeasure = measureReader(measure.case, cap);
  const valueOf = (state: EvaluationState, now: number): MeasureValue =>
    readMeasure(
      bucketsInWindow({ state: state.aggregates[spec.key], plan, now, timeZone: context.timeZone }),
    );
  // With validation keeping distinct thresholds at or below the cap, "more than the cap" decides
  // every comparison exactly, so the saturated reading (cap + 1) compares correctly.
  const evaluate = (state: EvaluationState, now: number): boolean =>
    compareNumber(operator, valueOf(state, now).value);
  const what =
    measure.case === 'count'
      ? `count of ${event.name}`
      : `${measure.case === 'distinctCount' ? 'distinct count' : measure.case} of ${event.name}.${measure.value.property}`;
  return {
    evaluate,
    nextChange: (state, now) => {
      const buckets = Object.keys(state.aggregates[spec.key]?.buckets ?? {}).map(Number);
      return firstChange(now, bucketCandidates(plan, buckets, now, context.timeZone), (at) =>
        evaluate(state, at),
      );
    },
    explain: (state, now) => {
      const { value, saturated } = valueOf(state, now);
      const shown = value === undefined ? 'has no value' : saturated ? `> ${cap}` : `= ${value}`;
      return explanation({
        path,
        matched: evaluate(state, now),
        summary: `${what} ${describeWindow(event.window, context.timeZone)} ${shown} (needs ${describeComparison(operator)})`,
        observed: value === undefined ? null : value,
        notes: saturated
          ? [
              `more than ${cap} distinct values were seen in one bucket; only "more than ${cap}" is known, which decides this comparison`,
            ]
          : [],
      });
    },
  };
}

function compileRecency(event: EventCondition, path: string, context: Context): CompiledCondition {
  const measure = event.measure;
  if (measure.case !== 'firstSeen' && measure.case !== 'lastSeen') {
    throw new RuleError(RuleErrorCode.InvalidRule, `${path}: not a first/last occurrence test`);
  }
  const operator = measure.value.operator;
  if (!isTimeOperator(operator))
    throw new RuleError(RuleErrorCode.InvalidRule, `${path}: a time test needs an operator`);
  const spec = recencySpecOf({ event, timeZone: context.timeZone });
  const test = compileTimeTest({ operator, timeZone: context.timeZone });
  const instantOf = (state: EvaluationState): number | undefined => {
    const recency = state.recency[spec.key];
    return recency === undefined
      ? undefined
      : measure.case === 'firstSeen'
        ? recency.first
        : recency.last;
  };
  const evaluate = (state: EvaluationState, now: number): boolean => {
    const instant = instantOf(state);
    return instant !== undefined && test.test(instant, now, state.traits);
  };
  const which = measure.case === 'firstSeen' ? 'first' : 'last';
  return {
    evaluate,
    nextChange: (state, now) => {
      const instant = instantOf(state);
      if (instant === undefined || !test.relative) return undefined;
      return firstChange(now, test.breakpoints(instant, now), (at) => evaluate(state, at));
    },
    explain: (state, now) => {
      const instant = instantOf(state);
      const seen =
        instant === undefined
          ? `never did ${event.name}`
          : `${which} did ${event.name} at ${formatInstant(instant)}`;
      return explanation({
        path,
        matched: evaluate(state, now),
        summary: `${seen} (needs the ${which} time ${test.describe(now, state.traits)})`,
        observed: instant === undefined ? null : formatInstant(instant),
      });
    },
  };
}

function compileSequence(
  sequence: SequenceCondition,
  path: string,
  context: Context,
): CompiledCondition {
  const spec = sequenceSpecOf({ sequence, timeZone: context.timeZone, limits: context.limits });
  const plan = windowPlanOf(sequence.window, context.timeZone);
  const followUp = sequence.notFollowedBy;
  const shape: ChainShape = {
    maxGap: sequence.maxGap === undefined ? undefined : spanMs(sequence.maxGap),
    within: sequence.within === undefined ? undefined : spanMs(sequence.within),
    followUpWithin: followUp === undefined ? undefined : spanMs(followUp.within),
  };
  const analyse = (
    state: EvaluationState,
    now: number,
  ): { chains: Chain[]; qualifying: Chain | undefined } => {
    const occurrences = state.sequences[spec.key];
    if (occurrences === undefined) return { chains: [], qualifying: undefined };
    const { from, to } = windowInstants(plan, now, context.timeZone);
    const chains = completeChains({ steps: occurrences.steps, from, to, shape });
    const within = shape.followUpWithin;
    const qualifying =
      within === undefined
        ? chains[chains.length - 1]
        : chains.find(
            (chain) =>
              now > chain.end + within &&
              followUpAfter(occurrences.followUps, chain.end, within) === undefined,
          );
    return { chains, qualifying };
  };
  const evaluate = (state: EvaluationState, now: number): boolean =>
    analyse(state, now).qualifying !== undefined;
  const names = sequence.steps.map((step) => step.event).join(' → ');
  return {
    evaluate,
    nextChange: (state, now) => {
      const occurrences = state.sequences[spec.key];
      if (occurrences === undefined) return undefined;
      const buckets =
        plan.kind === 'sliding'
          ? occurrences.steps.flatMap((list) =>
              list.map((instant) => bucketIndex(plan.unit, instant, context.timeZone)),
            )
          : [];
      const within = shape.followUpWithin;
      const deadlines =
        within === undefined
          ? []
          : (occurrences.steps[occurrences.steps.length - 1] ?? []).map((end) => end + within + 1);
      return firstChange(
        now,
        [...bucketCandidates(plan, buckets, now, context.timeZone), ...deadlines],
        (at) => evaluate(state, at),
      );
    },
    explain: (state, now) => {
      const { chains, qualifying } = analyse(state, now);
      const occurrences = state.sequences[spec.key];
      const truncated = (occurrences?.steps ?? []).some(
        (list) => list.length >= spec.occurrenceCap,
      );
      const windowText = describeWindow(sequence.window, context.timeZone);
      let summary: string;
      if (followUp === undefined) {
        summary =
          qualifying === undefined
            ? `no complete sequence ${names} ${windowText}`
            : `sequence ${names} completed ${windowText}: from ${formatInstant(qualifying.start)} to ${formatInstant(qualifying.end)}`;
      } else if (qualifying !== undefined) {
        summary = `sequence ${names} completed at ${formatInstant(qualifying.end)} and not followed by ${followUp.event} within ${describeSpan(followUp.within)}`;
      } else if (chains.length === 0) {
        summary = `no complete sequence ${names} ${windowText}`;
      } else {
        const within = shape.followUpWithin as number;
        const pending = chains.find(
          (chain) =>
            now <= chain.end + within &&
            followUpAfter(occurrences?.followUps ?? [], chain.end, within) === undefined,
        );
        summary =
          pending === undefined
            ? `every completed sequence ${names} was followed by ${followUp.event} within ${describeSpan(followUp.within)}`
            : `sequence ${names} completed at ${formatInstant(pending.end)}; waiting until ${formatInstant(pending.end + within + 1)} for ${followUp.event}`;
      }
      return explanation({
        path,
        matched: qualifying !== undefined,
        summary,
        observed: chains.length,
        notes: truncated
          ? [`only the ${spec.occurrenceCap} most recent occurrences of each step are considered`]
          : [],
      });
    },
  };
}

/** How many candidate instants a next-change search examines before settling for a re-check instant. */
export const NEXT_CHANGE_MAX_STEPS = 256;

function compileContacts(
  where: Condition,
  operator: NumericOperator,
  path: string,
  context: Context,
): CompiledCondition {
  const member = compileCondition(where, `${path}.where`, context);
  const countAt = (state: EvaluationState, now: number): number =>
    (state.contacts ?? []).filter((contact) => member.evaluate(contact, now)).length;
  const evaluate = (state: EvaluationState, now: number): boolean =>
    compareNumber(operator, countAt(state, now));
  return {
    evaluate,
    nextChange: (state, now) =>
      iterateToChange({
        now,
        maxSteps: NEXT_CHANGE_MAX_STEPS,
        valueAt: (at) => evaluate(state, at),
        next: (from) => {
          let earliest: number | undefined;
          for (const contact of state.contacts ?? []) {
            const next = member.nextChange(contact, from);
            if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
          }
          return earliest;
        },
      })?.at,
    explain: (state, now) => {
      const count = countAt(state, now);
      return explanation({
        path,
        matched: evaluate(state, now),
        summary: `${count} of ${(state.contacts ?? []).length} contacts match (needs ${describeComparison(operator)})`,
        observed: count,
        children: (state.contacts ?? []).map((contact) => member.explain(contact, now)),
      });
    },
  };
}
