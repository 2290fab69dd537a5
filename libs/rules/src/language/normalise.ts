import { create, toJson } from '@bufbuild/protobuf';
import { ValueSchema, type Value } from '@bufbuild/protobuf/wkt';
import {
  Audience,
  ConditionSchema,
  EventConditionSchema,
  FieldConditionSchema,
  FollowUpSchema,
  RuleSchema,
  SequenceConditionSchema,
  SequenceStepSchema,
  SpanSchema,
  TimeConditionSchema,
  TimeOperandSchema,
  TimeRangeSchema,
  TraitAnchorSchema,
  ValueRangeSchema,
  WindowSchema,
  type Condition,
  type EventCondition,
  type FieldCondition,
  type FollowUp,
  type Rule,
  type SequenceStep,
  type Span,
  type TimeCondition,
  type TimeOperand,
  type TimeRange,
  type Window,
} from '@shoal/contracts';
import { assertNever } from './errors';
import { canonicalJson, valueToJson } from './values';
import { canonicalTimeZone, isValidTimeZone } from '../time/zone';

// The canonical form of a rule. Every step preserves meaning (the property tests check it
// against the oracle): single-child all/any groups are replaced by their child, nested groups
// of the same kind (and `any` groups inside `none`) are flattened, duplicate children and
// filters are dropped and the rest sorted, operands of case-insensitive comparisons are
// lower-cased, `in` lists are de-duplicated and sorted, weeks become days, the time zone takes
// its canonical spelling and the audience is made explicit.

const MAX_UINT32 = 0xffff_ffff;

/** A stable string for a condition; equal strings mean equal conditions. */
export function conditionKey(condition: Condition): string {
  return canonicalJson(toJson(ConditionSchema, condition));
}

export function fieldKey(field: FieldCondition): string {
  return canonicalJson(toJson(FieldConditionSchema, field));
}

function sortedUnique<T>(items: readonly T[], key: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(key(item), item);
  return [...byKey.keys()].sort().map((itemKey) => byKey.get(itemKey) as T);
}

export function normaliseRule(rule: Rule): Rule {
  return create(RuleSchema, {
    timeZone: isValidTimeZone(rule.timeZone || 'UTC')
      ? canonicalTimeZone(rule.timeZone)
      : rule.timeZone,
    audience: rule.audience === Audience.UNSPECIFIED ? Audience.PROFILES : rule.audience,
    condition: rule.condition === undefined ? undefined : normaliseCondition(rule.condition),
  });
}

export function normaliseCondition(condition: Condition): Condition {
  const kind = condition.kind;
  switch (kind.case) {
    case 'all':
    case 'any':
    case 'none': {
      const flattenable = kind.case === 'none' ? 'any' : kind.case;
      const children = kind.value.conditions
        .map(normaliseCondition)
        .flatMap((child) =>
          child.kind.case === flattenable ? child.kind.value.conditions : [child],
        );
      const unique = sortedUnique(children, conditionKey);
      if (kind.case !== 'none' && unique.length === 1) return unique[0] as Condition;
      return create(ConditionSchema, { kind: { case: kind.case, value: { conditions: unique } } });
    }
    case 'trait':
      return create(ConditionSchema, {
        kind: { case: 'trait', value: normaliseField(kind.value) },
      });
    case 'event':
      return create(ConditionSchema, {
        kind: { case: 'event', value: normaliseEvent(kind.value) },
      });
    case 'sequence': {
      const sequence = kind.value;
      return create(ConditionSchema, {
        kind: {
          case: 'sequence',
          value: create(SequenceConditionSchema, {
            steps: sequence.steps.map(normaliseStep),
            maxGap: normaliseSpan(sequence.maxGap),
            within: normaliseSpan(sequence.within),
            window: normaliseWindow(sequence.window),
            notFollowedBy: normaliseFollowUp(sequence.notFollowedBy),
          }),
        },
      });
    }
    case 'contacts':
      return create(ConditionSchema, {
        kind: {
          case: 'contacts',
          value: {
            where:
              kind.value.where === undefined ? undefined : normaliseCondition(kind.value.where),
            count: kind.value.count,
          },
        },
      });
    case 'inSegment':
    case 'notInSegment':
    case 'inList':
    case 'notInList':
    case 'hasTag':
    case 'lacksTag':
    case undefined:
      return condition;
    default:
      return assertNever(kind, 'condition');
  }
}

/** Normalised, de-duplicated and sorted filters (the form spec keys are built from). */
export function normaliseFilters(filters: readonly FieldCondition[]): FieldCondition[] {
  return sortedUnique(filters.map(normaliseField), fieldKey);
}

function normaliseEvent(event: EventCondition): EventCondition {
  const measure = event.measure;
  return create(EventConditionSchema, {
    name: event.name,
    where: normaliseFilters(event.where),
    window: normaliseWindow(event.window),
    measure:
      measure.case === 'firstSeen' || measure.case === 'lastSeen'
        ? { case: measure.case, value: normaliseTimeCondition(measure.value) }
        : measure,
  });
}

export function normaliseStep(step: SequenceStep): SequenceStep {
  return create(SequenceStepSchema, { event: step.event, where: normaliseFilters(step.where) });
}

function normaliseFollowUp(followUp: FollowUp | undefined): FollowUp | undefined {
  if (followUp === undefined) return undefined;
  return create(FollowUpSchema, {
    event: followUp.event,
    where: normaliseFilters(followUp.where),
    within: normaliseSpan(followUp.within),
  });
}

function normaliseWindow(window: Window | undefined): Window | undefined {
  if (window === undefined) return undefined;
  const span = window.span;
  if (span.case === 'lastWeeks' && span.value * 7 <= MAX_UINT32) {
    return create(WindowSchema, { span: { case: 'lastDays', value: span.value * 7 } });
  }
  if (span.case === 'between') {
    return create(WindowSchema, { span: { case: 'between', value: normaliseRange(span.value) } });
  }
  return window;
}

function normaliseSpan(span: Span | undefined): Span | undefined {
  if (span === undefined) return undefined;
  const length = span.length;
  if (length.case === 'weeks' && length.value * 7 <= MAX_UINT32) {
    return create(SpanSchema, { length: { case: 'days', value: length.value * 7 } });
  }
  return span;
}

function normaliseOperand(operand: TimeOperand | undefined): TimeOperand | undefined {
  if (operand === undefined) return undefined;
  const point = operand.point;
  if (
    (point.case === 'weeksAgo' || point.case === 'weeksFromNow') &&
    point.value * 7 <= MAX_UINT32
  ) {
    return create(TimeOperandSchema, {
      point: {
        case: point.case === 'weeksAgo' ? 'daysAgo' : 'daysFromNow',
        value: point.value * 7,
      },
    });
  }
  return operand;
}

function normaliseRange(range: TimeRange): TimeRange {
  return create(TimeRangeSchema, {
    from: normaliseOperand(range.from),
    to: normaliseOperand(range.to),
  });
}

function normaliseTimeCondition(condition: TimeCondition): TimeCondition {
  const operator = normaliseTimeOperator(condition.operator);
  return create(TimeConditionSchema, { operator });
}

type TimeOperatorOf<T extends { operator: { case: string | undefined } }> = Extract<
  T['operator'],
  { case: TimeCondition['operator']['case'] }
>;

function normaliseTimeOperator<
  T extends TimeOperatorOf<TimeCondition> | TimeOperatorOf<FieldCondition>,
>(operator: T): T {
  switch (operator.case) {
    case 'before':
    case 'after':
      return { case: operator.case, value: normaliseOperand(operator.value) } as T;
    case 'withinLast':
    case 'withinNext':
      return { case: operator.case, value: normaliseSpan(operator.value) } as T;
    case 'during':
      return { case: 'during', value: normaliseRange(operator.value) } as T;
    case 'afterTrait':
      return {
        case: 'afterTrait',
        value: create(TraitAnchorSchema, {
          path: operator.value.path,
          within: normaliseSpan(operator.value.within),
        }),
      } as T;
    default:
      return operator;
  }
}

function foldValue(value: Value | undefined, fold: boolean): Value | undefined {
  if (!fold || value === undefined || value.kind.case !== 'stringValue') return value;
  return create(ValueSchema, {
    kind: { case: 'stringValue', value: value.kind.value.toLowerCase() },
  });
}

function normaliseField(field: FieldCondition): FieldCondition {
  const fold = field.caseInsensitive;
  const operator = field.operator;
  const base = {
    path: field.path,
    caseInsensitive: field.caseInsensitive,
    allElements: field.allElements,
  };
  switch (operator.case) {
    case 'equals':
    case 'notEquals':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return create(FieldConditionSchema, {
        ...base,
        operator: { case: operator.case, value: foldValue(operator.value, fold) as Value },
      });
    case 'in':
    case 'notIn': {
      const values = sortedUnique(
        operator.value.values.map((value) => foldValue(value, fold) as Value),
        (value) => canonicalJson(valueToJson(value)),
      );
      return create(FieldConditionSchema, {
        ...base,
        operator: { case: operator.case, value: { values } },
      });
    }
    case 'contains':
    case 'notContains':
    case 'startsWith':
    case 'endsWith':
      return create(FieldConditionSchema, {
        ...base,
        operator: {
          case: operator.case,
          value: fold ? operator.value.toLowerCase() : operator.value,
        },
      });
    case 'between':
      return create(FieldConditionSchema, {
        ...base,
        operator: {
          case: 'between',
          value: create(ValueRangeSchema, {
            min: foldValue(operator.value.min, fold),
            max: foldValue(operator.value.max, fold),
          }),
        },
      });
    case 'before':
    case 'after':
    case 'withinLast':
    case 'withinNext':
    case 'during':
    case 'afterTrait':
      return create(FieldConditionSchema, { ...base, operator: normaliseTimeOperator(operator) });
    case 'exists':
    case 'calendar':
    case 'anniversary':
    case undefined:
      return field;
    default:
      return assertNever(operator, 'field operator');
  }
}
