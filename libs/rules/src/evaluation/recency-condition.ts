import type { EventCondition } from '@shoal/contracts';
import { recencySpecOf } from '../incremental/dependencies';
import type { EvaluationState } from '../incremental/state';
import { RuleError, RuleErrorCode } from '../language/errors';
import { formatInstant } from '../language/values';
import { ascendingAfter, explanation, type CompiledLeaf, type Context } from './condition';
import { compileTimeTest, isTimeOperator } from './time-test';

/** A time test on the first or last occurrence of an event. */
export function compileRecency(
  event: EventCondition,
  path: string,
  context: Context,
): CompiledLeaf {
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
    kind: 'leaf',
    evaluate,
    changeCandidates: (state, now) => {
      const instant = instantOf(state);
      if (instant === undefined || !test.relative) return [];
      return ascendingAfter(now, test.breakpoints(instant, now));
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
