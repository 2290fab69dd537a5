import type { JsonValue } from '@bufbuild/protobuf';
import { fromJson } from '@bufbuild/protobuf';
import type { Timestamp, Value } from '@bufbuild/protobuf/wkt';
import {
  Audience,
  RuleSchema,
  type Comparison,
  type Condition,
  type EventCondition,
  type FieldCondition,
  type Rule,
  type SequenceCondition,
  type SequenceStep,
  type Span,
  type TimeOperand,
  type TimeRange,
  type Window,
} from '@shoal/contracts';
import { thresholds, type NumericOperator } from './comparison';
import { checkSegmentReferences, type RuleLookup } from './cycles';
import { RuleViolationCode as Code, assertNever, type RuleViolation } from './errors';
import { resolveLimits, type RuleLimits } from './limits';
import {
  isAbsoluteOperand,
  isTimeOperator,
  operandAt,
  resolveOperand,
  spanMs,
  type TimeOperator,
} from '../evaluation/time-test';
import { parseCivilDate } from './dates';
import { pathSegments } from './values';
import { DAY_MS } from '../time/calendar';
import { windowReachDays } from '../time/windows';
import { isValidTimeZone } from '../time/zone';

// Validation reports every problem at once, each with the path of the bad node in the rule's
// JSON form (camelCase field names, [i] for list elements).

export interface ValidationResult {
  readonly valid: boolean;
  readonly violations: readonly RuleViolation[];
}

/** Where a field condition appears: traits may use every operator, event filters only timeless ones. */
type FieldContext = 'trait' | 'property';

interface Walk {
  readonly limits: RuleLimits;
  readonly timeZone: string;
  readonly now: number | undefined;
  readonly violations: RuleViolation[];
  conditions: number;
}

/**
 * Checks a rule: structure, operands, limits (conditions, depth, sequence steps, list sizes,
 * operand lengths, history reach, distinct-count cap), time zone, and, when `lookupRule` is given, that every
 * referenced segment exists, selects the same audience and that no reference cycle forms
 * (`segmentId` is the id of the segment this rule belongs to, if it has one yet). With `now`,
 * fixed window ranges starting before the retained history are refused too.
 */
export function validateRule({
  rule,
  limits,
  segmentId,
  lookupRule,
  now,
}: {
  rule: Rule;
  limits?: Partial<RuleLimits>;
  segmentId?: string;
  lookupRule?: RuleLookup;
  now?: number;
}): ValidationResult {
  const timeZone = rule.timeZone !== '' && isValidTimeZone(rule.timeZone) ? rule.timeZone : 'UTC';
  const walk: Walk = {
    limits: resolveLimits(limits),
    timeZone,
    now,
    violations: [],
    conditions: 0,
  };
  if (rule.timeZone.length > MAX_TIME_ZONE_LENGTH) {
    report(
      walk,
      'timeZone',
      Code.InvalidTimeZone,
      `is ${rule.timeZone.length} characters, longer than any IANA time zone`,
    );
  } else if (rule.timeZone !== '' && !isValidTimeZone(rule.timeZone)) {
    report(
      walk,
      'timeZone',
      Code.InvalidTimeZone,
      `"${rule.timeZone}" is not a known IANA time zone`,
    );
  }
  const tooDeep = nestingViolation(rule, walk.limits.maxDepth);
  if (tooDeep !== undefined) {
    // the walks below recurse: a rule nested deeper than allowed is refused before any of them
    return { valid: false, violations: [tooDeep] };
  }
  if (rule.condition === undefined) {
    report(walk, 'condition', Code.Required, 'a rule needs a condition');
  } else {
    const audience = rule.audience === Audience.ACCOUNTS ? 'accounts' : 'profiles';
    checkCondition(walk, rule.condition, 'condition', audience, false);
    if (walk.conditions > walk.limits.maxConditions) {
      report(
        walk,
        'condition',
        Code.LimitExceeded,
        `the rule has ${walk.conditions} conditions; the limit maxConditions is ${walk.limits.maxConditions}`,
      );
    }
    if (lookupRule !== undefined) {
      walk.violations.push(...checkSegmentReferences({ rule, segmentId, lookupRule }));
    }
  }
  return { valid: walk.violations.length === 0, violations: walk.violations };
}

/**
 * The first condition nested deeper than `maxDepth` (the rule's top condition is at depth 1;
 * a group's conditions and a contacts condition's `where` are one level deeper), found without
 * recursion, so that any depth is safe to check.
 */
export function nestingViolation(rule: Rule, maxDepth: number): RuleViolation | undefined {
  const pending: { condition: Condition; path: string; depth: number }[] = [];
  if (rule.condition !== undefined)
    pending.push({ condition: rule.condition, path: 'condition', depth: 1 });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { condition, path, depth } = next;
    if (depth > maxDepth) {
      return {
        path,
        code: Code.LimitExceeded,
        message: `conditions are nested ${depth} deep here; the limit maxDepth is ${maxDepth}`,
      };
    }
    const kind = condition.kind;
    if (kind.case === 'all' || kind.case === 'any' || kind.case === 'none') {
      // pushed last-first, so they are visited in order (the first too deep one is reported)
      for (let index = kind.value.conditions.length - 1; index >= 0; index--) {
        pending.push({
          condition: kind.value.conditions[index] as Condition,
          path: `${path}.${kind.case}.conditions[${index}]`,
          depth: depth + 1,
        });
      }
    } else if (kind.case === 'contacts' && kind.value.where !== undefined) {
      pending.push({
        condition: kind.value.where,
        path: `${path}.contacts.where`,
        depth: depth + 1,
      });
    }
  }
  return undefined;
}

/** Parses a rule's JSON form; a JSON that does not fit the Rule message is one violation at the root. */
export function parseRule(
  json: JsonValue,
): { ok: true; rule: Rule } | { ok: false; violations: readonly RuleViolation[] } {
  try {
    return { ok: true, rule: fromJson(RuleSchema, json) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, violations: [{ path: '', code: Code.Unparseable, message }] };
  }
}

function report(walk: Walk, path: string, code: Code, message: string): void {
  walk.violations.push({ path, code, message });
}

function checkCondition(
  walk: Walk,
  condition: Condition,
  path: string,
  audience: 'profiles' | 'accounts',
  inContacts: boolean,
): void {
  walk.conditions += 1;
  const kind = condition.kind;
  switch (kind.case) {
    case 'all':
    case 'any':
    case 'none': {
      const groupPath = `${path}.${kind.case}.conditions`;
      if (kind.value.conditions.length === 0) {
        report(
          walk,
          groupPath,
          Code.EmptyGroup,
          `an "${kind.case}" group needs at least one condition`,
        );
      }
      kind.value.conditions.forEach((child, index) =>
        checkCondition(walk, child, `${groupPath}[${index}]`, audience, inContacts),
      );
      return;
    }
    case 'trait':
      checkField(walk, kind.value, `${path}.trait`, 'trait');
      return;
    case 'event':
      checkEvent(walk, kind.value, `${path}.event`);
      return;
    case 'sequence':
      checkSequence(walk, kind.value, `${path}.sequence`);
      return;
    case 'inSegment':
    case 'notInSegment':
    case 'inList':
    case 'notInList':
      if (kind.value === '')
        report(walk, `${path}.${kind.case}`, Code.Required, `${kind.case} needs a non-empty id`);
      else if (kind.value.length > MAX_ID_LENGTH)
        report(
          walk,
          `${path}.${kind.case}`,
          Code.LimitExceeded,
          `is ${kind.value.length} characters; the limit for ids is ${MAX_ID_LENGTH}`,
        );
      return;
    case 'hasTag':
    case 'lacksTag':
      if (kind.value === '')
        report(walk, `${path}.${kind.case}`, Code.Required, `${kind.case} needs a non-empty id`);
      checkText(walk, kind.value, `${path}.${kind.case}`);
      return;
    case 'contacts': {
      const contactsPath = `${path}.contacts`;
      if (audience !== 'accounts' || inContacts) {
        report(
          walk,
          contactsPath,
          Code.NotAllowedHere,
          inContacts
            ? 'a contacts condition cannot be nested in another one'
            : 'contacts conditions are only allowed in account rules (audience AUDIENCE_ACCOUNTS)',
        );
      }
      if (kind.value.where === undefined) {
        report(
          walk,
          `${contactsPath}.where`,
          Code.Required,
          'a contacts condition needs a "where" condition for each contact',
        );
      } else {
        checkCondition(walk, kind.value.where, `${contactsPath}.where`, 'profiles', true);
      }
      checkComparison(walk, kind.value.count, `${contactsPath}.count`);
      return;
    }
    case undefined:
      report(
        walk,
        path,
        Code.Required,
        'a condition needs exactly one kind (all, any, none, trait, event, ...)',
      );
      return;
    default:
      assertNever(kind, 'condition');
  }
}

/** The longest IANA time zone name is 30 characters. */
const MAX_TIME_ZONE_LENGTH = 64;

/** Segment and list ids are Shoal's ("seg_" and 20 characters); anything much longer is not one. */
const MAX_ID_LENGTH = 64;

/** Strings longer than maxOperandLength are refused (they would bloat every stored and published copy). */
function checkText(walk: Walk, text: string, at: string): boolean {
  if (text.length <= walk.limits.maxOperandLength) return true;
  report(
    walk,
    at,
    Code.LimitExceeded,
    `is ${text.length} characters; the limit maxOperandLength is ${walk.limits.maxOperandLength}`,
  );
  return false;
}

/**
 * A scalar operand (string, number, boolean) as a plain value, or undefined after reporting why
 * it is not one. Lists and objects are refused by their kind, without reading into them.
 */
function scalarOperand(
  walk: Walk,
  value: Value | undefined,
  at: string,
  accepts: 'scalar' | 'orderable',
): string | number | boolean | undefined {
  const kind = value?.kind;
  const expected = accepts === 'scalar' ? 'a string, number or boolean' : 'a number or a string';
  switch (kind?.case) {
    case 'stringValue':
      return checkText(walk, kind.value, at) ? kind.value : undefined;
    case 'numberValue':
      if (Number.isFinite(kind.value)) return kind.value;
      report(walk, at, Code.InvalidValue, `the operand must be a finite number, got ${kind.value}`);
      return undefined;
    case 'boolValue':
      if (accepts === 'scalar') return kind.value;
      report(walk, at, Code.InvalidValue, `the operand must be ${expected}, got ${kind.value}`);
      return undefined;
    case 'listValue':
    case 'structValue':
    case 'nullValue':
    case undefined: {
      const got =
        kind?.case === 'listValue'
          ? 'a list'
          : kind?.case === 'structValue'
            ? 'an object'
            : kind?.case === 'nullValue'
              ? 'null'
              : 'nothing';
      report(walk, at, Code.InvalidValue, `the operand must be ${expected}, got ${got}`);
      return undefined;
    }
    default:
      return assertNever(kind, 'value');
  }
}

function checkPath(walk: Walk, path: string, at: string, what: string): void {
  if (!checkText(walk, path, at)) return;
  if (pathSegments(path) === undefined) {
    report(
      walk,
      at,
      path === '' ? Code.Required : Code.InvalidPath,
      `${what} needs a dotted path without empty segments, got "${path}"`,
    );
  }
}

const STRING_OPERATORS = new Set(['contains', 'notContains', 'startsWith', 'endsWith']);
const NEGATIVE_OPERATORS = new Set(['notEquals', 'notIn', 'notContains']);

function checkField(walk: Walk, field: FieldCondition, path: string, context: FieldContext): void {
  checkPath(
    walk,
    field.path,
    `${path}.path`,
    context === 'trait' ? 'a trait condition' : 'a property filter',
  );
  const operator = field.operator;
  let comparesStrings = false;
  const scalar = (value: Value | undefined, at: string, accepts: 'scalar' | 'orderable') => {
    if (value?.kind.case === 'stringValue') comparesStrings = true;
    return scalarOperand(walk, value, at, accepts);
  };
  const at = `${path}.${operator.case ?? ''}`;
  switch (operator.case) {
    case 'equals':
    case 'notEquals':
      scalar(operator.value, at, 'scalar');
      break;
    case 'in':
    case 'notIn': {
      const values = operator.value.values;
      if (values.length === 0)
        report(walk, at, Code.InvalidValue, `${operator.case} needs at least one value`);
      if (values.length > walk.limits.maxListValues) {
        report(
          walk,
          at,
          Code.LimitExceeded,
          `the list has ${values.length} values; the limit maxListValues is ${walk.limits.maxListValues}`,
        );
      } else values.forEach((value, index) => scalar(value, `${at}[${index}]`, 'scalar'));
      break;
    }
    case 'contains':
    case 'notContains':
    case 'startsWith':
    case 'endsWith':
      comparesStrings = true;
      if (operator.value === '')
        report(walk, at, Code.InvalidValue, `${operator.case} needs a non-empty string`);
      checkText(walk, operator.value, at);
      break;
    case 'exists':
      break;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      scalar(operator.value, at, 'orderable');
      break;
    case 'between': {
      const min = scalar(operator.value.min, `${at}.min`, 'orderable');
      const max = scalar(operator.value.max, `${at}.max`, 'orderable');
      if (min === undefined || max === undefined) break;
      if (typeof min !== typeof max) {
        report(
          walk,
          at,
          Code.InvalidValue,
          'between needs min and max of the same type (both numbers or both strings)',
        );
      } else if (min > max) {
        report(
          walk,
          at,
          Code.InvalidValue,
          `between needs min <= max, got ${JSON.stringify(min)} > ${JSON.stringify(max)}`,
        );
      }
      break;
    }
    case 'before':
    case 'after':
    case 'withinLast':
    case 'withinNext':
    case 'during':
    case 'calendar':
    case 'anniversary':
    case 'afterTrait':
      if (isTimeOperator(operator)) checkTimeOperator(walk, operator, at, context);
      break;
    case undefined:
      report(
        walk,
        path,
        Code.Required,
        'a field condition needs an operator (equals, in, gt, before, ...)',
      );
      break;
    default:
      assertNever(operator, 'field operator');
  }
  if (field.caseInsensitive && !comparesStrings && !STRING_OPERATORS.has(operator.case ?? '')) {
    report(
      walk,
      `${path}.caseInsensitive`,
      Code.NotAllowedHere,
      'caseInsensitive applies only to comparisons with strings',
    );
  }
  if (
    field.allElements &&
    (operator.case === 'exists' || NEGATIVE_OPERATORS.has(operator.case ?? ''))
  ) {
    report(
      walk,
      `${path}.allElements`,
      Code.NotAllowedHere,
      `allElements does not apply to ${operator.case}`,
    );
  }
}

function checkTimeOperator(
  walk: Walk,
  operator: TimeOperator,
  path: string,
  context: FieldContext,
): void {
  const timeless = context === 'property';
  const refuseRelative = (what: string): void =>
    report(
      walk,
      path,
      Code.NotAllowedHere,
      `${what} cannot be used in event filters: a filter's result must not change with time`,
    );
  switch (operator.case) {
    case 'before':
    case 'after':
      checkOperand(walk, operator.value, path, timeless);
      return;
    case 'withinLast':
    case 'withinNext':
      if (timeless) refuseRelative(operator.case);
      checkSpan(walk, operator.value, path, walk.limits.maxRelativeDays, 'maxRelativeDays');
      return;
    case 'during':
      checkRange(walk, operator.value, path, timeless);
      return;
    case 'calendar': {
      if (timeless) refuseRelative('a calendar period');
      const unit = operator.value.unit;
      if (unit.case === undefined) {
        report(
          walk,
          path,
          Code.Required,
          'a calendar period needs a unit (day, week, month, quarter or year)',
        );
        return;
      }
      const days = Math.abs(unit.value) * UNIT_DAYS[unit.case];
      if (days > walk.limits.maxRelativeDays) {
        report(
          walk,
          `${path}.${unit.case}`,
          Code.LimitExceeded,
          `the period is about ${days} days away; the limit maxRelativeDays is ${walk.limits.maxRelativeDays}`,
        );
      }
      return;
    }
    case 'anniversary':
      if (timeless) refuseRelative('an anniversary');
      if (operator.value.withinNextDays > 366) {
        report(
          walk,
          `${path}.withinNextDays`,
          Code.InvalidValue,
          'withinNextDays must be at most 366',
        );
      }
      return;
    case 'afterTrait':
      if (timeless)
        report(
          walk,
          path,
          Code.NotAllowedHere,
          'afterTrait cannot be used in event filters: filters cannot read traits',
        );
      checkPath(walk, operator.value.path, `${path}.path`, 'afterTrait');
      checkSpan(
        walk,
        operator.value.within,
        `${path}.within`,
        walk.limits.maxRelativeDays,
        'maxRelativeDays',
      );
      return;
    default:
      assertNever(operator, 'time operator');
  }
}

/** The most days a calendar unit spans, for bounding how far away a period may be. */
const UNIT_DAYS = { day: 1, week: 7, month: 31, quarter: 92, year: 366 } as const;

function checkOperand(
  walk: Walk,
  operand: TimeOperand | undefined,
  path: string,
  absoluteOnly: boolean,
): void {
  const point = operand?.point;
  if (point === undefined || point.case === undefined) {
    report(
      walk,
      path,
      Code.Required,
      'a time operand needs one of at, date, daysAgo, hoursFromNow, ...',
    );
    return;
  }
  const at = `${path}.${point.case}`;
  if (point.case === 'date') {
    if (point.value.length > 10)
      report(walk, at, Code.InvalidDate, 'a date has the form YYYY-MM-DD');
    else if (parseCivilDate(point.value) === undefined)
      report(walk, at, Code.InvalidDate, `"${point.value}" is not a date of the form YYYY-MM-DD`);
    return;
  }
  if (point.case === 'at') {
    const problem = instantProblem(point.value);
    if (problem !== undefined) report(walk, at, Code.InvalidValue, problem);
    return;
  }
  if (absoluteOnly) {
    report(
      walk,
      at,
      Code.NotAllowedHere,
      `${point.case} is relative to now; only at or date can be used here`,
    );
    return;
  }
  const perUnit = point.case.startsWith('minutes')
    ? 1 / 1440
    : point.case.startsWith('hours')
      ? 1 / 24
      : point.case.startsWith('weeks')
        ? 7
        : 1;
  if (point.value * perUnit > walk.limits.maxRelativeDays) {
    report(
      walk,
      at,
      Code.LimitExceeded,
      `${point.case} reaches more than ${walk.limits.maxRelativeDays} days; the limit maxRelativeDays is ${walk.limits.maxRelativeDays}`,
    );
  }
}

/** Instants Shoal keeps and prints: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

function instantProblem(at: Timestamp): string | undefined {
  if (at.seconds < MIN_SECONDS || at.seconds > MAX_SECONDS)
    return 'an instant must fall in the years 0001 to 9999';
  if (!Number.isInteger(at.nanos) || at.nanos < 0 || at.nanos > 999_999_999)
    return 'nanos must be 0 to 999999999';
  return undefined;
}

function checkRange(walk: Walk, range: TimeRange, path: string, absoluteOnly: boolean): void {
  checkOperand(walk, range.from, `${path}.from`, absoluteOnly);
  checkOperand(walk, range.to, `${path}.to`, absoluteOnly);
}

function checkSpan(
  walk: Walk,
  span: Span | undefined,
  path: string,
  maxDays: number,
  limitName: string,
): void {
  const length = span?.length;
  if (length === undefined || length.case === undefined) {
    report(walk, path, Code.Required, 'a span needs one of minutes, hours, days or weeks');
    return;
  }
  if (length.value < 1)
    report(walk, `${path}.${length.case}`, Code.InvalidValue, `${length.case} must be at least 1`);
  const days = spanMs(span) / DAY_MS;
  if (days > maxDays) {
    report(
      walk,
      `${path}.${length.case}`,
      Code.LimitExceeded,
      `the span is ${days} days long; the limit ${limitName} is ${maxDays}`,
    );
  }
}

function checkFilters(walk: Walk, filters: readonly FieldCondition[], path: string): void {
  filters.forEach((filter, index) => checkField(walk, filter, `${path}[${index}]`, 'property'));
}

function checkWindow(walk: Walk, window: Window | undefined, path: string): void {
  if (window === undefined) return;
  const span = window.span;
  const at = `${path}.${span.case ?? ''}`;
  switch (span.case) {
    case undefined:
      report(
        walk,
        path,
        Code.Required,
        'a window needs one of lastMinutes, lastHours, lastDays, lastWeeks, lastMonths, calendar or between',
      );
      return;
    case 'lastMinutes':
    case 'lastHours':
    case 'lastDays':
    case 'lastWeeks':
    case 'lastMonths':
      if (span.value < 1) report(walk, at, Code.InvalidValue, `${span.case} must be at least 1`);
      break;
    case 'calendar': {
      const unit = span.value.unit;
      if (unit.case === undefined) {
        report(
          walk,
          at,
          Code.Required,
          'a calendar period needs a unit (day, week, month, quarter or year)',
        );
        return;
      }
      if (unit.value > 0) {
        report(
          walk,
          `${at}.${unit.case}`,
          Code.InvalidValue,
          'an event window cannot be a future calendar period (use 0 or a negative offset)',
        );
        return;
      }
      break;
    }
    case 'between': {
      const before = walk.violations.length;
      checkRange(walk, span.value, at, true);
      if (walk.violations.length > before) return;
      const { from, to } = span.value;
      if (
        from === undefined ||
        to === undefined ||
        !isAbsoluteOperand(from) ||
        !isAbsoluteOperand(to)
      )
        return;
      if (from.point.case === 'date' && parseCivilDate(from.point.value) === undefined) return;
      if (to.point.case === 'date' && parseCivilDate(to.point.value) === undefined) return;
      const start = operandAt(resolveOperand(from, walk.timeZone), 0);
      const end = operandAt(resolveOperand(to, walk.timeZone), 0);
      if (start >= end) {
        report(walk, at, Code.InvalidValue, 'a window range needs from < to');
      }
      if (walk.now !== undefined && start < walk.now - walk.limits.maxHistoryDays * DAY_MS) {
        report(
          walk,
          `${at}.from`,
          Code.WindowTooLong,
          `the window starts before the retained history; the limit maxHistoryDays is ${walk.limits.maxHistoryDays}`,
        );
      }
      return;
    }
    default:
      assertNever(span, 'window');
  }
  const reach = windowReachDays(window);
  if (reach > walk.limits.maxHistoryDays) {
    report(
      walk,
      at,
      Code.WindowTooLong,
      `the window reaches up to ${reach} days back; the limit maxHistoryDays is ${walk.limits.maxHistoryDays}`,
    );
  }
}

function checkOperator(
  walk: Walk,
  operator: Comparison['operator'],
  path: string,
): NumericOperator | undefined {
  if (operator.case === undefined) {
    report(
      walk,
      path,
      Code.Required,
      'a comparison needs one of eq, ne, gt, gte, lt, lte or between',
    );
    return undefined;
  }
  const at = `${path}.${operator.case}`;
  const values = thresholds(operator);
  if (values.some((value) => !Number.isFinite(value)))
    report(walk, at, Code.InvalidValue, 'thresholds must be finite numbers');
  if (operator.case === 'between' && operator.value.min > operator.value.max) {
    report(
      walk,
      at,
      Code.InvalidValue,
      `between needs min <= max, got ${operator.value.min} > ${operator.value.max}`,
    );
  }
  return operator;
}

function checkComparison(walk: Walk, comparison: Comparison | undefined, path: string): void {
  if (comparison === undefined) {
    report(walk, path, Code.Required, 'a count comparison is required, e.g. {"gte": 3}');
    return;
  }
  checkOperator(walk, comparison.operator, path);
}

function checkEvent(walk: Walk, event: EventCondition, path: string): void {
  if (event.name === '')
    report(walk, `${path}.name`, Code.Required, 'an event condition needs an event name');
  checkText(walk, event.name, `${path}.name`);
  checkFilters(walk, event.where, `${path}.where`);
  const measure = event.measure;
  const at = `${path}.${measure.case ?? ''}`;
  switch (measure.case) {
    case undefined:
      report(
        walk,
        path,
        Code.Required,
        'an event condition needs a measure: count, sum, avg, min, max, distinctCount, firstSeen or lastSeen',
      );
      return;
    case 'count':
      checkWindow(walk, event.window, `${path}.window`);
      checkOperator(walk, measure.value.operator, at);
      return;
    case 'sum':
    case 'avg':
    case 'min':
    case 'max':
    case 'distinctCount': {
      checkWindow(walk, event.window, `${path}.window`);
      checkPath(walk, measure.value.property, `${at}.property`, measure.case);
      const operator = checkOperator(walk, measure.value.operator, at);
      if (measure.case === 'distinctCount' && operator !== undefined) {
        const cap = walk.limits.distinctValuesCap;
        if (thresholds(operator).some((value) => value > cap)) {
          report(
            walk,
            `${at}.${operator.case}`,
            Code.LimitExceeded,
            `distinct-count thresholds may not exceed ${cap}; the limit distinctValuesCap is ${cap}`,
          );
        }
      }
      return;
    }
    case 'firstSeen':
    case 'lastSeen': {
      if (event.window !== undefined) {
        report(
          walk,
          `${path}.window`,
          Code.NotAllowedHere,
          `${measure.case} is over all time; it takes no window (put the time test in ${measure.case})`,
        );
      }
      const operator = measure.value.operator;
      if (!isTimeOperator(operator)) {
        report(
          walk,
          at,
          Code.Required,
          `${measure.case} needs a time test (before, after, withinLast, ...)`,
        );
        return;
      }
      checkTimeOperator(walk, operator, `${at}.${operator.case}`, 'trait');
      return;
    }
    default:
      assertNever(measure, 'event measure');
  }
}

function checkStep(
  walk: Walk,
  step: { event: string; where: readonly FieldCondition[] },
  path: string,
): void {
  if (step.event === '') report(walk, `${path}.event`, Code.Required, 'a step needs an event name');
  checkText(walk, step.event, `${path}.event`);
  checkFilters(walk, step.where, `${path}.where`);
}

function checkSequence(walk: Walk, sequence: SequenceCondition, path: string): void {
  const steps: readonly SequenceStep[] = sequence.steps;
  const minimum = sequence.notFollowedBy === undefined ? 2 : 1;
  if (steps.length < minimum) {
    report(
      walk,
      `${path}.steps`,
      Code.InvalidValue,
      `a sequence needs at least ${minimum} step${minimum === 1 ? '' : 's'}${minimum === 2 ? ' (or one step and notFollowedBy)' : ''}`,
    );
  }
  if (steps.length > walk.limits.maxSequenceSteps) {
    report(
      walk,
      `${path}.steps`,
      Code.LimitExceeded,
      `the sequence has ${steps.length} steps; the limit maxSequenceSteps is ${walk.limits.maxSequenceSteps}`,
    );
  }
  steps.forEach((step, index) => checkStep(walk, step, `${path}.steps[${index}]`));
  const history = walk.limits.maxHistoryDays;
  if (sequence.maxGap !== undefined)
    checkSpan(walk, sequence.maxGap, `${path}.maxGap`, history, 'maxHistoryDays');
  if (sequence.within !== undefined)
    checkSpan(walk, sequence.within, `${path}.within`, history, 'maxHistoryDays');
  checkWindow(walk, sequence.window, `${path}.window`);
  const followUp = sequence.notFollowedBy;
  if (followUp !== undefined) {
    checkStep(walk, followUp, `${path}.notFollowedBy`);
    checkSpan(walk, followUp.within, `${path}.notFollowedBy.within`, history, 'maxHistoryDays');
  }
}
