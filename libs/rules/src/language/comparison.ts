import type { Comparison } from '@shoal/contracts';
import { RuleError, RuleErrorCode, assertNever } from './errors';

/** A numeric test: the operator of a Comparison or of a PropertyAggregate (same cases). */
export type NumericOperator = Exclude<Comparison['operator'], { case: undefined }>;

export function numericOperator(operator: Comparison['operator']): NumericOperator {
  if (operator.case === undefined)
    throw new RuleError(RuleErrorCode.InvalidRule, 'a comparison needs an operator');
  return operator;
}

/** Whether `value` passes; no value (undefined) passes nothing. */
export function compareNumber(operator: NumericOperator, value: number | undefined): boolean {
  if (value === undefined) return false;
  switch (operator.case) {
    case 'eq':
      return value === operator.value;
    case 'ne':
      return value !== operator.value;
    case 'gt':
      return value > operator.value;
    case 'gte':
      return value >= operator.value;
    case 'lt':
      return value < operator.value;
    case 'lte':
      return value <= operator.value;
    case 'between':
      return operator.value.min <= value && value <= operator.value.max;
    default:
      return assertNever(operator, 'comparison');
  }
}

/** The thresholds of a comparison (for the distinct-cap check). */
export function thresholds(operator: NumericOperator): number[] {
  return operator.case === 'between' ? [operator.value.min, operator.value.max] : [operator.value];
}

export function describeComparison(operator: NumericOperator): string {
  switch (operator.case) {
    case 'eq':
      return `= ${operator.value}`;
    case 'ne':
      return `≠ ${operator.value}`;
    case 'gt':
      return `> ${operator.value}`;
    case 'gte':
      return `≥ ${operator.value}`;
    case 'lt':
      return `< ${operator.value}`;
    case 'lte':
      return `≤ ${operator.value}`;
    case 'between':
      return `between ${operator.value.min} and ${operator.value.max}`;
    default:
      return assertNever(operator, 'comparison');
  }
}
