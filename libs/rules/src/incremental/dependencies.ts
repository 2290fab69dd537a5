import { create } from '@bufbuild/protobuf';
import {
  SequenceStepSchema,
  type Condition,
  type EventCondition,
  type FieldCondition,
  type Rule,
  type SequenceCondition,
  type SequenceStep,
  type TimeCondition,
  type Window,
} from '@shoal/contracts';
import { assertNever } from '../language/errors';
import { resolveLimits, type RuleLimits } from '../language/limits';
import { fieldKey, normaliseFilters, normaliseStep } from '../language/normalise';
import {
  isSlidingBucketing,
  type AccumulatorKind,
  type AggregateSpec,
  type Bucketing,
  type RecencySpec,
  type SequenceSpec,
  type StateSpec,
} from './state';
import { isRelativeTimeOperator, isTimeOperator, resolveOperand } from '../evaluation/time-test';
import { planWindow, type WindowPlan } from '../time/windows';
import { canonicalTimeZone } from '../time/zone';

// What a rule depends on: the traits, events, segments, lists and tags it reads, and the
// derived state (specs) the membership service must maintain for it. Spec keys are
// deterministic strings built from normalised parts, so two segments needing the same
// aggregate share one state and recomputing it is idempotent.

const SPEC_VERSION = 1;

/** One event-based condition of a rule, with what it measures and the spec holding its state. */
export interface EventDependency {
  /** Path of the condition in the rule's JSON form. */
  readonly path: string;
  readonly event: string;
  readonly measure:
    | 'count'
    | 'sum'
    | 'avg'
    | 'min'
    | 'max'
    | 'distinctCount'
    | 'firstSeen'
    | 'lastSeen'
    | 'sequence';
  /** The event window (or the sequence's window); undefined means all time. */
  readonly window: Window | undefined;
  readonly specKey: string;
}

export interface RuleDependencies {
  /** Trait paths read (including trait anchors), sorted. */
  readonly traits: readonly string[];
  /** Event names read (aggregates, first/last occurrences, sequence steps and follow-ups), sorted. */
  readonly events: readonly string[];
  readonly segments: readonly string[];
  readonly lists: readonly string[];
  readonly tags: readonly string[];
  readonly eventConditions: readonly EventDependency[];
  /** The derived state to maintain for the subject, one per key (see mergeSpecs). */
  readonly specs: readonly StateSpec[];
  /** True when the rule's value can change with time alone (so it needs timers). */
  readonly timeRelative: boolean;
  /** Account rules: what the member profiles' states must hold for `contacts` conditions. */
  readonly contacts: RuleDependencies | undefined;
}

function filtersNeedZone(filters: readonly FieldCondition[]): boolean {
  return filters.some((filter) => isTimeOperator(filter.operator));
}

function filtersKey(filters: readonly FieldCondition[]): unknown[] {
  return filters.map((filter) => JSON.parse(fieldKey(filter)) as unknown);
}

function stepKey(step: SequenceStep): unknown[] {
  return [step.event, filtersKey(step.where)];
}

/** How a window reads time in a zone (absolute range ends resolved to instants). */
export function windowPlanOf(window: Window | undefined, timeZone: string): WindowPlan {
  return planWindow({
    window,
    resolveAbsolute: (operand) => {
      const resolved = resolveOperand(operand, timeZone);
      return resolved.kind === 'absolute' ? resolved.at : undefined;
    },
  });
}

function bucketingOf(plan: WindowPlan, timeZone: string): Bucketing {
  switch (plan.kind) {
    case 'all':
      return { unit: 'all' };
    case 'range':
      return { unit: 'range', from: plan.from, to: plan.to };
    case 'sliding':
      return {
        unit: plan.unit,
        timeZone: plan.unit === 'minute' ? 'UTC' : timeZone,
        retain: plan.retain,
      };
    default:
      return assertNever(plan, 'window plan');
  }
}

function bucketingKey(bucketing: Bucketing): unknown[] {
  return bucketing.unit === 'range' ? ['range', bucketing.from, bucketing.to] : [bucketing.unit];
}

/** Calendar and hour buckets read the zone; minutes, all time and ranges do not. */
function bucketingNeedsZone(bucketing: Bucketing): boolean {
  return isSlidingBucketing(bucketing) && bucketing.unit !== 'minute';
}

function zoneKey(needsZone: boolean, timeZone: string): string {
  return needsZone ? timeZone : '';
}

function accumulatorOf(measure: EventCondition['measure']['case']): AccumulatorKind | undefined {
  switch (measure) {
    case 'count':
      return 'count';
    case 'sum':
    case 'avg':
    case 'min':
    case 'max':
      return 'numeric';
    case 'distinctCount':
      return 'distinct';
    case 'firstSeen':
    case 'lastSeen':
    case undefined:
      return undefined;
    default:
      return assertNever(measure, 'event measure');
  }
}

/** The aggregate spec of an event condition; undefined for first/last occurrence conditions. */
export function aggregateSpecOf({
  event,
  timeZone,
  limits,
}: {
  event: EventCondition;
  timeZone: string;
  limits?: Partial<RuleLimits>;
}): AggregateSpec | undefined {
  const accumulator = accumulatorOf(event.measure.case);
  if (accumulator === undefined) return undefined;
  const zone = canonicalTimeZone(timeZone);
  const where = normaliseFilters(event.where);
  const bucketing = bucketingOf(windowPlanOf(event.window, zone), zone);
  const measure = event.measure;
  const property =
    measure.case === 'sum' ||
    measure.case === 'avg' ||
    measure.case === 'min' ||
    measure.case === 'max' ||
    measure.case === 'distinctCount'
      ? measure.value.property
      : '';
  const distinctValuesCap = resolveLimits(limits).distinctValuesCap;
  const needsZone = bucketingNeedsZone(bucketing) || filtersNeedZone(where);
  const key = JSON.stringify([
    SPEC_VERSION,
    'aggregate',
    accumulator,
    event.name,
    filtersKey(where),
    property,
    bucketingKey(bucketing),
    zoneKey(needsZone, zone),
    accumulator === 'distinct' ? distinctValuesCap : 0,
  ]);
  return {
    kind: 'aggregate',
    key,
    event: event.name,
    where,
    timeZone: zone,
    accumulator,
    property,
    bucketing,
    distinctValuesCap,
  };
}

/** The first/last occurrence spec of an event (shared by every first/last test of it). */
export function recencySpecOf({
  event,
  timeZone,
}: {
  event: EventCondition;
  timeZone: string;
}): RecencySpec {
  const zone = canonicalTimeZone(timeZone);
  const where = normaliseFilters(event.where);
  const key = JSON.stringify([
    SPEC_VERSION,
    'recency',
    event.name,
    filtersKey(where),
    zoneKey(filtersNeedZone(where), zone),
  ]);
  return { kind: 'recency', key, event: event.name, where, timeZone: zone };
}

export function sequenceSpecOf({
  sequence,
  timeZone,
  limits,
}: {
  sequence: SequenceCondition;
  timeZone: string;
  limits?: Partial<RuleLimits>;
}): SequenceSpec {
  const zone = canonicalTimeZone(timeZone);
  const steps = sequence.steps.map(normaliseStep);
  const followUp =
    sequence.notFollowedBy === undefined
      ? undefined
      : normaliseStep(
          create(SequenceStepSchema, {
            event: sequence.notFollowedBy.event,
            where: sequence.notFollowedBy.where,
          }),
        );
  const bucketing = bucketingOf(windowPlanOf(sequence.window, zone), zone);
  const occurrenceCap = resolveLimits(limits).sequenceOccurrenceCap;
  const needsZone =
    bucketingNeedsZone(bucketing) ||
    [...steps, ...(followUp === undefined ? [] : [followUp])].some((step) =>
      filtersNeedZone(step.where),
    );
  const key = JSON.stringify([
    SPEC_VERSION,
    'sequence',
    steps.map(stepKey),
    followUp === undefined ? null : stepKey(followUp),
    bucketing.unit === 'range' ? ['all'] : bucketingKey(bucketing),
    zoneKey(needsZone, zone),
    occurrenceCap,
  ]);
  const stored: Bucketing = bucketing.unit === 'range' ? { unit: 'all' } : bucketing;
  return {
    kind: 'sequence',
    key,
    steps,
    followUp,
    timeZone: zone,
    bucketing: stored,
    occurrenceCap,
  };
}

/**
 * One spec per key. Specs with the same key differ at most in how many buckets they retain;
 * the merged spec retains the most. The membership service must prune with merged specs.
 */
export function mergeSpecs(specs: readonly StateSpec[]): StateSpec[] {
  const byKey = new Map<string, StateSpec>();
  for (const spec of specs) {
    const seen = byKey.get(spec.key);
    byKey.set(spec.key, seen === undefined ? spec : mergeTwo(seen, spec));
  }
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as StateSpec);
}

function mergeTwo(a: StateSpec, b: StateSpec): StateSpec {
  if (a.kind === 'recency' || b.kind === 'recency') return a;
  if (!isSlidingBucketing(a.bucketing) || !isSlidingBucketing(b.bucketing)) return a;
  const retain = Math.max(a.bucketing.retain, b.bucketing.retain);
  return { ...a, bucketing: { ...a.bucketing, retain } } as StateSpec;
}

/** The derived state a rule needs for its own subject (not for contacts). */
export function specsOf({
  rule,
  limits,
}: {
  rule: Rule;
  limits?: Partial<RuleLimits>;
}): StateSpec[] {
  return [...dependenciesOf({ rule, limits }).specs];
}

interface Collector {
  traits: Set<string>;
  events: Set<string>;
  segments: Set<string>;
  lists: Set<string>;
  tags: Set<string>;
  eventConditions: EventDependency[];
  specs: StateSpec[];
  timeRelative: boolean;
  contacts: Collector | undefined;
}

function newCollector(): Collector {
  return {
    traits: new Set(),
    events: new Set(),
    segments: new Set(),
    lists: new Set(),
    tags: new Set(),
    eventConditions: [],
    specs: [],
    timeRelative: false,
    contacts: undefined,
  };
}

export function dependenciesOf({
  rule,
  limits,
}: {
  rule: Rule;
  limits?: Partial<RuleLimits>;
}): RuleDependencies {
  const timeZone = canonicalTimeZone(rule.timeZone);
  const collector = newCollector();
  if (rule.condition !== undefined)
    collect(rule.condition, 'condition', collector, timeZone, limits);
  return finish(collector);
}

function finish(collector: Collector): RuleDependencies {
  const sorted = (set: Set<string>): string[] => [...set].sort();
  return {
    traits: sorted(collector.traits),
    events: sorted(collector.events),
    segments: sorted(collector.segments),
    lists: sorted(collector.lists),
    tags: sorted(collector.tags),
    eventConditions: collector.eventConditions,
    specs: mergeSpecs(collector.specs),
    timeRelative: collector.timeRelative || (collector.contacts?.timeRelative ?? false),
    contacts: collector.contacts === undefined ? undefined : finish(collector.contacts),
  };
}

/** Collects the trait an operator's anchor reads, and whether the operator moves with now. */
function collectOperator(
  operator: FieldCondition['operator'] | TimeCondition['operator'],
  into: Collector,
): void {
  if (operator.case === 'afterTrait') into.traits.add(operator.value.path);
  if (isTimeOperator(operator) && isRelativeTimeOperator(operator)) into.timeRelative = true;
}

function collect(
  condition: Condition,
  path: string,
  into: Collector,
  timeZone: string,
  limits: Partial<RuleLimits> | undefined,
): void {
  const kind = condition.kind;
  switch (kind.case) {
    case 'all':
    case 'any':
    case 'none':
      kind.value.conditions.forEach((child, index) =>
        collect(child, `${path}.${kind.case}.conditions[${index}]`, into, timeZone, limits),
      );
      return;
    case 'trait': {
      into.traits.add(kind.value.path);
      collectOperator(kind.value.operator, into);
      return;
    }
    case 'event': {
      const event = kind.value;
      into.events.add(event.name);
      const measure = event.measure;
      if (measure.case === 'firstSeen' || measure.case === 'lastSeen') {
        const spec = recencySpecOf({ event, timeZone });
        into.specs.push(spec);
        collectOperator(measure.value.operator, into);
        into.eventConditions.push({
          path: `${path}.event`,
          event: event.name,
          measure: measure.case,
          window: undefined,
          specKey: spec.key,
        });
        return;
      }
      const spec = aggregateSpecOf({ event, timeZone, limits });
      if (spec === undefined || measure.case === undefined) return;
      into.specs.push(spec);
      if (isSlidingBucketing(spec.bucketing)) into.timeRelative = true;
      into.eventConditions.push({
        path: `${path}.event`,
        event: event.name,
        measure: measure.case,
        window: event.window,
        specKey: spec.key,
      });
      return;
    }
    case 'sequence': {
      const sequence = kind.value;
      const spec = sequenceSpecOf({ sequence, timeZone, limits });
      into.specs.push(spec);
      for (const step of sequence.steps) into.events.add(step.event);
      if (sequence.notFollowedBy !== undefined) {
        into.events.add(sequence.notFollowedBy.event);
        into.timeRelative = true;
      }
      if (isSlidingBucketing(spec.bucketing)) into.timeRelative = true;
      into.eventConditions.push({
        path: `${path}.sequence`,
        event: sequence.steps[0]?.event ?? '',
        measure: 'sequence',
        window: sequence.window,
        specKey: spec.key,
      });
      return;
    }
    case 'inSegment':
    case 'notInSegment':
      into.segments.add(kind.value);
      return;
    case 'inList':
    case 'notInList':
      into.lists.add(kind.value);
      return;
    case 'hasTag':
    case 'lacksTag':
      into.tags.add(kind.value);
      return;
    case 'contacts': {
      into.contacts ??= newCollector();
      if (kind.value.where !== undefined)
        collect(kind.value.where, `${path}.contacts.where`, into.contacts, timeZone, limits);
      return;
    }
    case undefined:
      return;
    default:
      assertNever(kind, 'condition');
  }
}
