import type { JsonValue } from '@bufbuild/protobuf';
import { fromJson } from '@bufbuild/protobuf';
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
import { pathSegments, valueToJson } from './values';
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
  depthReported: boolean;
}

/**
 * Checks a rule: structure, operands, limits (conditions, depth, sequence steps, list sizes,
 * history reach, distinct-count cap), time zone, and, when `lookupRule` is given, that every
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
    depthReported: false,
  };
  if (rule.timeZone !== '' && !isValidTimeZone(rule.timeZone)) {
    report(
      walk,
      'timeZone',
      Code.InvalidTimeZone,
      `"${rule.timeZone}" is not a known IANA time zone`,
    );
  }
  if (rule.condition === undefined) {
    report(walk, 'condition', Code.Required, 'a rule needs a condition');
  } else {
    const audience = rule.audience === Audience.ACCOUNTS ? 'accounts' : 'profiles';
    checkCondition(walk, rule.condition, 'condition', 1, audience, false);
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
  depth: number,
  audience: 'profiles' | 'accounts',
  inContacts: boolean,
): void {
  walk.conditions += 1;
  if (depth > walk.limits.maxDepth && !walk.depthReported) {
    walk.depthReported = true;
    report(
      walk,
      path,
      Code.LimitExceeded,
      `conditions are nested ${depth} deep here; the limit maxDepth is ${walk.limits.maxDepth}`,
    );
  }
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
        checkCondition(walk, child, `${groupPath}[${index}]`, depth + 1, audience, inContacts),
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
    case 'hasTag':
    case 'lacksTag':
      if (kind.value === '')
        report(walk, `${path}.${kind.case}`, Code.Required, `${kind.case} needs a non-empty id`);
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
        checkCondition(
          walk,
          kind.value.where,
          `${contactsPath}.where`,
          depth + 1,
          'profiles',
          true,
        );
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

function checkPath(walk: Walk, path: string, at: string, what: string): void {
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
  const scalar = (value: JsonValue, at: string): void => {
    if (typeof value === 'string') comparesStrings = true;
    else if (typeof value !== 'number' && typeof value !== 'boolean') {
      report(
        walk,
        at,
        Code.InvalidValue,
        `the operand must be a string, number or boolean, got ${JSON.stringify(value)}`,
      );
    }
  };
  const orderable = (value: JsonValue, at: string): void => {
    if (typeof value === 'string') comparesStrings = true;
    else if (typeof value !== 'number') {
      report(
        walk,
        at,
        Code.InvalidValue,
        `the operand must be a number or a string, got ${JSON.stringify(value)}`,
      );
    }
  };
  const at = `${path}.${operator.case ?? ''}`;
  switch (operator.case) {
    case 'equals':
    case 'notEquals':
      scalar(valueToJson(operator.value), at);
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
      }
      values.forEach((value, index) => scalar(valueToJson(value), `${at}[${index}]`));
      break;
    }
    case 'contains':
    case 'notContains':
    case 'startsWith':
    case 'endsWith':
      comparesStrings = true;
      if (operator.value === '')
        report(walk, at, Code.InvalidValue, `${operator.case} needs a non-empty string`);
      break;
    case 'exists':
      break;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      orderable(valueToJson(operator.value), at);
      break;
    case 'between': {
      const min = valueToJson(operator.value.min);
      const max = valueToJson(operator.value.max);
      orderable(min, `${at}.min`);
      orderable(max, `${at}.max`);
      if (typeof min !== typeof max) {
        report(
          walk,
          at,
          Code.InvalidValue,
          'between needs min and max of the same type (both numbers or both strings)',
        );
      } else if (
        (typeof min === 'number' || typeof min === 'string') &&
        min > (max as typeof min)
      ) {
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
    case 'calendar':
      if (timeless) refuseRelative('a calendar period');
      if (operator.value.unit.case === undefined)
        report(
          walk,
          path,
          Code.Required,
          'a calendar period needs a unit (day, week, month, quarter or year)',
        );
      return;
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
    if (parseCivilDate(point.value) === undefined)
      report(walk, at, Code.InvalidDate, `"${point.value}" is not a date of the form YYYY-MM-DD`);
    return;
  }
  if (point.case === 'at') return;
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
      checkRange(walk, span.value, at, true);
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
