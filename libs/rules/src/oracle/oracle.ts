import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import {
  Audience,
  type Comparison,
  type Condition,
  type EventCondition,
  type FieldCondition,
  type Rule,
  type SequenceCondition,
  type SequenceStep,
  type Span,
  type TimeCondition,
  type TimeOperand,
  type Window,
} from '@shoal/contracts';
import type { RuleEvent } from '../incremental/state';
import { parseCivilDate, readDateValue, type CivilDate } from '../language/dates';
import { compareNumber } from '../language/comparison';
import { RuleError, RuleErrorCode } from '../language/errors';
import { exactSumOf } from '../language/exact-sum';
import { resolveLimits, type RuleLimits } from '../language/limits';
import { canonicalJson, resolvePath, valueToJson } from '../language/values';
import {
  anniversaryWithin,
  inCalendarPeriod,
  inLastDays,
  inLastClockUnits,
  inLastMonths,
  instantOf,
  startOfDay,
} from './calendar';

// The reference evaluator: a rule over a subject's full history, by brute force. It shares no
// evaluation code with the incremental path (no buckets, no compiled operators, no chain DP)
// and none of its time arithmetic: zone offsets, calendar periods and windows come from
// Temporal (./calendar). It only shares the primitives that define the semantics: path
// resolution, which strings are dates, canonical JSON, exact summation and numeric comparison.
// It is the oracle the property tests compare compile/applyEvent/nextChangeAt with, so it is
// written to be obviously right, not fast.

/** Everything about a subject the oracle needs: current facts and every event ever received. */
export interface SubjectHistory {
  readonly traits: JsonObject;
  readonly tags: readonly string[];
  readonly lists: readonly string[];
  readonly segments: Readonly<Record<string, number>>;
  readonly events: readonly RuleEvent[];
  readonly contacts?: readonly SubjectHistory[];
}

interface Ctx {
  readonly zone: string;
  readonly now: number;
  readonly limits: RuleLimits;
}

export function oracle({
  rule,
  history,
  now,
  limits,
}: {
  rule: Rule;
  history: SubjectHistory;
  now: number;
  limits?: Partial<RuleLimits>;
}): boolean {
  if (rule.condition === undefined)
    throw new RuleError(RuleErrorCode.InvalidRule, 'a rule needs a condition');
  const ctx: Ctx = { zone: rule.timeZone || 'UTC', now, limits: resolveLimits(limits) };
  if (
    rule.audience !== Audience.ACCOUNTS &&
    history.contacts !== undefined &&
    history.contacts.length > 0
  ) {
    throw new RuleError(RuleErrorCode.InvalidArgument, 'a profile has no contacts');
  }
  return holds(rule.condition, history, ctx);
}

function holds(condition: Condition, subject: SubjectHistory, ctx: Ctx): boolean {
  const kind = condition.kind;
  switch (kind.case) {
    case 'all':
      return kind.value.conditions.every((child) => holds(child, subject, ctx));
    case 'any':
      return kind.value.conditions.some((child) => holds(child, subject, ctx));
    case 'none':
      return !kind.value.conditions.some((child) => holds(child, subject, ctx));
    case 'trait':
      return fieldHolds(kind.value, subject.traits, subject.traits, ctx);
    case 'event':
      return eventHolds(kind.value, subject, ctx);
    case 'sequence':
      return sequenceHolds(kind.value, subject, ctx);
    case 'inSegment':
      return Object.prototype.hasOwnProperty.call(subject.segments, kind.value);
    case 'notInSegment':
      return !Object.prototype.hasOwnProperty.call(subject.segments, kind.value);
    case 'inList':
      return subject.lists.includes(kind.value);
    case 'notInList':
      return !subject.lists.includes(kind.value);
    case 'hasTag':
      return subject.tags.includes(kind.value);
    case 'lacksTag':
      return !subject.tags.includes(kind.value);
    case 'contacts': {
      const where = kind.value.where as Condition;
      const count = (subject.contacts ?? []).filter((contact) => holds(where, contact, ctx)).length;
      return compare(kind.value.count?.operator, count);
    }
    case undefined:
      throw new RuleError(RuleErrorCode.InvalidRule, 'a condition needs a kind');
  }
}

function compare(operator: Comparison['operator'] | undefined, value: number | undefined): boolean {
  return operator?.case !== undefined && compareNumber(operator, value);
}

// ---- fields -------------------------------------------------------------------------------

function fieldHolds(
  field: FieldCondition,
  record: JsonObject,
  traits: JsonObject,
  ctx: Ctx,
): boolean {
  const value = resolvePath(record, field.path);
  const op = field.operator;
  if (op.case === 'exists') return (value !== undefined && value !== null) === op.value;
  const items: JsonValue[] =
    value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  const lower = (x: JsonValue): JsonValue =>
    field.caseInsensitive && typeof x === 'string' ? x.toLowerCase() : x;
  const isScalar = (x: JsonValue): boolean =>
    typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  const same = (x: JsonValue, operand: JsonValue): boolean =>
    isScalar(x) && lower(x) === lower(operand);
  const text = (x: JsonValue): string | undefined =>
    typeof x === 'string' ? (lower(x) as string) : undefined;
  const order = (x: JsonValue, operand: JsonValue): number | undefined => {
    if (typeof operand === 'number')
      return typeof x === 'number' ? Math.sign(x - operand) : undefined;
    const a = text(x);
    const b = lower(operand) as string;
    return a === undefined ? undefined : a < b ? -1 : a > b ? 1 : 0;
  };
  const some = (test: (x: JsonValue) => boolean): boolean =>
    field.allElements ? items.length > 0 && items.every(test) : items.some(test);
  switch (op.case) {
    case 'equals':
      return some((x) => same(x, valueToJson(op.value)));
    case 'notEquals':
      return !items.some((x) => same(x, valueToJson(op.value)));
    case 'in':
      return some((x) => op.value.values.some((v) => same(x, valueToJson(v))));
    case 'notIn':
      return !items.some((x) => op.value.values.some((v) => same(x, valueToJson(v))));
    case 'contains':
      return some((x) => text(x)?.includes(lower(op.value) as string) ?? false);
    case 'notContains':
      return !items.some((x) => text(x)?.includes(lower(op.value) as string) ?? false);
    case 'startsWith':
      return some((x) => text(x)?.startsWith(lower(op.value) as string) ?? false);
    case 'endsWith':
      return some((x) => text(x)?.endsWith(lower(op.value) as string) ?? false);
    case 'gt':
      return some((x) => order(x, valueToJson(op.value)) === 1);
    case 'gte':
      return some((x) => [0, 1].includes(order(x, valueToJson(op.value)) ?? NaN));
    case 'lt':
      return some((x) => order(x, valueToJson(op.value)) === -1);
    case 'lte':
      return some((x) => [0, -1].includes(order(x, valueToJson(op.value)) ?? NaN));
    case 'between':
      return some(
        (x) =>
          [0, 1].includes(order(x, valueToJson(op.value.min)) ?? NaN) &&
          [0, -1].includes(order(x, valueToJson(op.value.max)) ?? NaN),
      );
    case undefined:
      return false;
    default:
      // A time operator: the value must be an instant that passes it.
      return some((x) => {
        const instant = instantIn(x, ctx);
        return instant !== undefined && instantHolds(op, instant, traits, ctx);
      });
  }
}

// ---- time ---------------------------------------------------------------------------------

function spanLength(span: Span | undefined): number {
  const l = span?.length;
  if (l?.case === 'minutes') return l.value * 60_000;
  if (l?.case === 'hours') return l.value * 3_600_000;
  if (l?.case === 'days') return l.value * 86_400_000;
  if (l?.case === 'weeks') return l.value * 7 * 86_400_000;
  return 0;
}

/** The instant a trait or property value names, read in the rule's zone; undefined if it is no date. */
function instantIn(value: JsonValue | undefined, ctx: Ctx): number | undefined {
  const read = readDateValue(value);
  return read === undefined ? undefined : instantOf(read, ctx.zone);
}

function point(operand: TimeOperand | undefined, ctx: Ctx): number {
  const p = operand?.point;
  const m = 60_000;
  switch (p?.case) {
    case 'at':
      return Number(p.value.seconds) * 1000 + Math.floor(p.value.nanos / 1e6);
    case 'date':
      return startOfDay(parseCivilDate(p.value) as CivilDate, ctx.zone);
    case 'minutesAgo':
      return ctx.now - p.value * m;
    case 'hoursAgo':
      return ctx.now - p.value * 60 * m;
    case 'daysAgo':
      return ctx.now - p.value * 1440 * m;
    case 'weeksAgo':
      return ctx.now - p.value * 7 * 1440 * m;
    case 'minutesFromNow':
      return ctx.now + p.value * m;
    case 'hoursFromNow':
      return ctx.now + p.value * 60 * m;
    case 'daysFromNow':
      return ctx.now + p.value * 1440 * m;
    case 'weeksFromNow':
      return ctx.now + p.value * 7 * 1440 * m;
    case undefined:
      throw new RuleError(RuleErrorCode.InvalidRule, 'a time operand needs a point');
  }
}

function instantHolds(
  op: TimeCondition['operator'],
  instant: number,
  traits: JsonObject,
  ctx: Ctx,
): boolean {
  switch (op.case) {
    case 'before':
      return instant < point(op.value, ctx);
    case 'after':
      return instant > point(op.value, ctx);
    case 'withinLast':
      return instant >= ctx.now - spanLength(op.value) && instant <= ctx.now;
    case 'withinNext':
      return instant >= ctx.now && instant <= ctx.now + spanLength(op.value);
    case 'during':
      return instant >= point(op.value.from, ctx) && instant < point(op.value.to, ctx);
    case 'calendar':
      return inCalendarPeriod(instant, op.value, ctx.now, ctx.zone);
    case 'anniversary':
      return anniversaryWithin(instant, op.value.withinNextDays, ctx.now, ctx.zone);
    case 'afterTrait': {
      const raw = resolvePath(traits, op.value.path);
      const anchor = Array.isArray(raw) ? undefined : instantIn(raw, ctx);
      return (
        anchor !== undefined && instant >= anchor && instant <= anchor + spanLength(op.value.within)
      );
    }
    case undefined:
      return false;
  }
}

// ---- events -------------------------------------------------------------------------------

/** Whether an event at `instant` is in a window at ctx.now. */
function inWindow(window: Window | undefined, instant: number, ctx: Ctx): boolean {
  const span = window?.span;
  switch (span?.case) {
    case undefined:
      return true;
    case 'lastMinutes':
      return inLastClockUnits('minute', instant, span.value, ctx.now, ctx.zone);
    case 'lastHours':
      return inLastClockUnits('hour', instant, span.value, ctx.now, ctx.zone);
    case 'lastDays':
      return inLastDays(instant, span.value, ctx.now, ctx.zone);
    case 'lastWeeks':
      return inLastDays(instant, span.value * 7, ctx.now, ctx.zone);
    case 'lastMonths':
      return inLastMonths(instant, span.value, ctx.now, ctx.zone);
    case 'calendar':
      return inCalendarPeriod(instant, span.value, ctx.now, ctx.zone);
    case 'between':
      return instant >= point(span.value.from, ctx) && instant < point(span.value.to, ctx);
  }
}

function matching(
  events: readonly RuleEvent[],
  name: string,
  where: readonly FieldCondition[],
  ctx: Ctx,
): RuleEvent[] {
  return events.filter(
    (event) =>
      event.name === name && where.every((filter) => fieldHolds(filter, event.properties, {}, ctx)),
  );
}

function eventHolds(condition: EventCondition, subject: SubjectHistory, ctx: Ctx): boolean {
  const all = matching(subject.events, condition.name, condition.where, ctx);
  const measure = condition.measure;
  if (measure.case === 'firstSeen' || measure.case === 'lastSeen') {
    if (all.length === 0) return false;
    const times = all.map((event) => event.timestamp);
    const instant = measure.case === 'firstSeen' ? Math.min(...times) : Math.max(...times);
    return instantHolds(measure.value.operator, instant, subject.traits, ctx);
  }
  const counted = all.filter((event) => inWindow(condition.window, event.timestamp, ctx));
  if (measure.case === 'count') return compare(measure.value.operator, counted.length);
  if (measure.case === undefined) return false;
  const elements = counted.flatMap((event) => {
    const value = resolvePath(event.properties, measure.value.property);
    return value === undefined || value === null
      ? []
      : Array.isArray(value)
        ? value.filter((x) => x !== null)
        : [value];
  });
  const numbers = elements.filter((x): x is number => typeof x === 'number');
  let value: number | undefined;
  switch (measure.case) {
    case 'sum':
      value = exactSumOf(numbers);
      break;
    case 'avg':
      value = numbers.length === 0 ? undefined : exactSumOf(numbers) / numbers.length;
      break;
    case 'min':
      value = numbers.length === 0 ? undefined : Math.min(...numbers);
      break;
    case 'max':
      value = numbers.length === 0 ? undefined : Math.max(...numbers);
      break;
    case 'distinctCount':
      value = new Set(elements.map(canonicalJson)).size;
      break;
  }
  return compare(measure.value.operator, value);
}

// ---- sequences ----------------------------------------------------------------------------

/** The timestamps of the `cap` most recent events matching a step, ascending. */
function recentOccurrences(
  step: Pick<SequenceStep, 'event' | 'where'>,
  subject: SubjectHistory,
  ctx: Ctx,
): number[] {
  const times = matching(subject.events, step.event, step.where, ctx)
    .map((event) => event.timestamp)
    .sort((a, b) => a - b);
  return times.slice(Math.max(0, times.length - ctx.limits.sequenceOccurrenceCap));
}

function sequenceHolds(sequence: SequenceCondition, subject: SubjectHistory, ctx: Ctx): boolean {
  const lists = sequence.steps.map((step) =>
    recentOccurrences(step, subject, ctx).filter((instant) =>
      inWindow(sequence.window, instant, ctx),
    ),
  );
  const gap = sequence.maxGap === undefined ? Infinity : spanLength(sequence.maxGap);
  const within = sequence.within === undefined ? Infinity : spanLength(sequence.within);
  const ends = new Set<number>();
  const extend = (step: number, previous: number, start: number): void => {
    for (const instant of lists[step] ?? []) {
      if (step > 0 && (instant <= previous || instant - previous > gap)) continue;
      const first = step === 0 ? instant : start;
      if (instant - first > within) continue;
      if (step === lists.length - 1) ends.add(instant);
      else extend(step + 1, instant, first);
    }
  };
  extend(0, -Infinity, 0);
  const followUp = sequence.notFollowedBy;
  if (followUp === undefined) return ends.size > 0;
  const follows = recentOccurrences(followUp, subject, ctx);
  const patience = spanLength(followUp.within);
  return [...ends].some(
    (end) =>
      ctx.now > end + patience &&
      !follows.some((instant) => instant > end && instant <= end + patience),
  );
}
