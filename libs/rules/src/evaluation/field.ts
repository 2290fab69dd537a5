import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { FieldCondition } from '@shoal/contracts';
import { RuleError, RuleErrorCode, assertNever } from '../language/errors';
import { compileTimeTest, isTimeOperator, type CompiledTimeTest } from './time-test';
import { parseInstant } from '../time/buckets';
import { elementsOf, pathSegments, resolveSegments, valueToJson } from '../language/values';

// A FieldCondition compiled to a test on a JSON record (a profile's traits or an event's
// properties). Operands are parsed (and case-folded) once.

export interface CompiledField {
  readonly path: string;
  /** True when the result can change as time passes. */
  readonly relative: boolean;
  /** Whether the field of `record` passes; `traits` anchor `afterTrait` operands. */
  test(record: JsonObject, now: number, traits: JsonObject): boolean;
  /** Instants at which the result for `record` may change as time passes. */
  breakpoints(record: JsonObject, now: number): number[];
  /** The operator and operand in words, e.g. `equals "pro"`. */
  describe(now: number, traits: JsonObject): string;
}

type ElementTest = (element: JsonValue, now: number, traits: JsonObject) => boolean;

type Scalar = string | number | boolean;

function isScalar(value: JsonValue): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function invalid(message: string): RuleError {
  return new RuleError(RuleErrorCode.InvalidRule, message);
}

export function compileField({
  condition,
  timeZone,
}: {
  condition: FieldCondition;
  timeZone: string;
}): CompiledField {
  const { path, caseInsensitive, allElements } = condition;
  const segments = pathSegments(path);
  const fold = (text: string): string => (caseInsensitive ? text.toLowerCase() : text);
  const foldScalar = (value: Scalar): Scalar => (typeof value === 'string' ? fold(value) : value);
  const scalarOperand = (json: JsonValue): Scalar => {
    if (!isScalar(json)) throw invalid(`${path}: operand must be a string, number or boolean`);
    return foldScalar(json);
  };
  const equalsScalar = (element: JsonValue, operand: Scalar): boolean =>
    isScalar(element) && foldScalar(element) === operand;
  const ordered = (json: JsonValue, holds: (order: number) => boolean): ElementTest => {
    const operand = scalarOperand(json);
    if (typeof operand === 'boolean') throw invalid(`${path}: cannot order booleans`);
    return (element) => {
      if (typeof operand === 'number')
        return typeof element === 'number' && holds(element - operand);
      return typeof element === 'string' && holds(compareText(fold(element), operand));
    };
  };
  const positive = (
    test: ElementTest,
    words: string,
    timeTest?: CompiledTimeTest,
  ): CompiledField => {
    const holds = (record: JsonObject, now: number, traits: JsonObject): boolean => {
      const elements = elementsOf(resolveSegments(record, segments));
      if (allElements)
        return elements.length > 0 && elements.every((element) => test(element, now, traits));
      return elements.some((element) => test(element, now, traits));
    };
    return {
      path,
      relative: timeTest?.relative ?? false,
      test: holds,
      breakpoints: (record, now) =>
        timeTest === undefined || !timeTest.relative
          ? []
          : elementsOf(resolveSegments(record, segments)).flatMap((element) => {
              const instant = parseInstant(element, timeZone);
              return instant === undefined ? [] : timeTest.breakpoints(instant, now);
            }),
      describe: (now, traits) =>
        `${allElements ? 'every element ' : ''}${timeTest === undefined ? words : timeTest.describe(now, traits)}`,
    };
  };
  const negative = (test: ElementTest, words: string): CompiledField => ({
    path,
    relative: false,
    test: (record, now, traits) =>
      !elementsOf(resolveSegments(record, segments)).some((element) => test(element, now, traits)),
    breakpoints: () => [],
    describe: () => words,
  });
  const text = (value: string): string => fold(value);
  const show = (value: JsonValue): string => JSON.stringify(value);

  const operator = condition.operator;
  switch (operator.case) {
    case 'equals':
    case 'notEquals': {
      const operand = scalarOperand(valueToJson(operator.value));
      const test: ElementTest = (element) => equalsScalar(element, operand);
      return operator.case === 'equals'
        ? positive(test, `equals ${show(operand)}`)
        : negative(test, `does not equal ${show(operand)}`);
    }
    case 'in':
    case 'notIn': {
      const operands = operator.value.values.map((value) => scalarOperand(valueToJson(value)));
      const test: ElementTest = (element) =>
        operands.some((operand) => equalsScalar(element, operand));
      return operator.case === 'in'
        ? positive(test, `is one of ${show(operands)}`)
        : negative(test, `is none of ${show(operands)}`);
    }
    case 'contains':
    case 'notContains': {
      const operand = text(operator.value);
      const test: ElementTest = (element) =>
        typeof element === 'string' && fold(element).includes(operand);
      return operator.case === 'contains'
        ? positive(test, `contains ${show(operand)}`)
        : negative(test, `does not contain ${show(operand)}`);
    }
    case 'startsWith': {
      const operand = text(operator.value);
      return positive(
        (element) => typeof element === 'string' && fold(element).startsWith(operand),
        `starts with ${show(operand)}`,
      );
    }
    case 'endsWith': {
      const operand = text(operator.value);
      return positive(
        (element) => typeof element === 'string' && fold(element).endsWith(operand),
        `ends with ${show(operand)}`,
      );
    }
    case 'exists': {
      const wanted = operator.value;
      return {
        path,
        relative: false,
        test: (record) => {
          const value = resolveSegments(record, segments);
          return (value !== undefined && value !== null) === wanted;
        },
        breakpoints: () => [],
        describe: () => (wanted ? 'exists' : 'does not exist'),
      };
    }
    case 'gt':
      return positive(
        ordered(valueToJson(operator.value), (order) => order > 0),
        `> ${show(valueToJson(operator.value))}`,
      );
    case 'gte':
      return positive(
        ordered(valueToJson(operator.value), (order) => order >= 0),
        `>= ${show(valueToJson(operator.value))}`,
      );
    case 'lt':
      return positive(
        ordered(valueToJson(operator.value), (order) => order < 0),
        `< ${show(valueToJson(operator.value))}`,
      );
    case 'lte':
      return positive(
        ordered(valueToJson(operator.value), (order) => order <= 0),
        `<= ${show(valueToJson(operator.value))}`,
      );
    case 'between': {
      const min = valueToJson(operator.value.min);
      const max = valueToJson(operator.value.max);
      const atLeast = ordered(min, (order) => order >= 0);
      const atMost = ordered(max, (order) => order <= 0);
      return positive(
        (element, now, traits) => atLeast(element, now, traits) && atMost(element, now, traits),
        `between ${show(min)} and ${show(max)}`,
      );
    }
    case undefined:
      throw invalid(`${path}: a field condition needs an operator`);
    default: {
      if (!isTimeOperator(operator)) return assertNever(operator, 'field operator');
      const timeTest = compileTimeTest({ operator, timeZone });
      return positive(
        (element, now, traits) => {
          const instant = parseInstant(element, timeZone);
          return instant !== undefined && timeTest.test(instant, now, traits);
        },
        '',
        timeTest,
      );
    }
  }
}

/** Orders strings by UTF-16 code units, the same everywhere (no locale). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A compiled all-of list of filters, as used on event properties. */
export function compileFilters({
  filters,
  timeZone,
}: {
  filters: readonly FieldCondition[];
  timeZone: string;
}): (properties: JsonObject) => boolean {
  const compiled = filters.map((condition) => compileField({ condition, timeZone }));
  return (properties) => compiled.every((filter) => filter.test(properties, 0, {}));
}
