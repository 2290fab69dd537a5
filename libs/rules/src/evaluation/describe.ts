import type { Window } from '@shoal/contracts';
import { assertNever } from '../language/errors';
import { describeCalendar, resolveOperand } from './time-test';
import { formatInstant } from '../language/values';
import { calendarPeriodParts } from '../time/windows';

// Words for explanations: how a window or a measure reads to a person.

/**
 * A number as a person reads it: sums and averages of decimal amounts carry binary rounding
 * noise (0.1 + 0.2 is 0.30000000000000004), shown here to 12 significant digits. Only the words
 * change; the value a rule compares and the explanation's `observed` stay exact.
 */
export function describeNumber(value: number): string {
  return Number.isInteger(value) || !Number.isFinite(value)
    ? String(value)
    : String(Number(value.toPrecision(12)));
}

export function describeWindow(window: Window | undefined, timeZone: string): string {
  const span = window?.span;
  const plural = (count: number, unit: string): string =>
    count === 1 ? `the current ${unit}` : `the last ${count} ${unit}s`;
  switch (span?.case) {
    case undefined:
      return 'over all time';
    case 'lastMinutes':
      return `in ${plural(span.value, 'minute')}`;
    case 'lastHours':
      return `in ${plural(span.value, 'hour')}`;
    case 'lastDays':
      return span.value === 1 ? 'today' : `in the last ${span.value} days`;
    case 'lastWeeks':
      return `in the last ${span.value} weeks`;
    case 'lastMonths':
      return `in the last ${span.value} month${span.value === 1 ? '' : 's'}`;
    case 'calendar': {
      const { unit, offset } = calendarPeriodParts(span.value);
      return `in ${describeCalendar(unit, offset)}`;
    }
    case 'between': {
      const end = (operand: typeof span.value.from): string => {
        const resolved = resolveOperand(operand, timeZone);
        return resolved.kind === 'absolute' ? formatInstant(resolved.at) : '?';
      };
      return `from ${end(span.value.from)} until ${end(span.value.to)}`;
    }
    default:
      return assertNever(span, 'window');
  }
}
