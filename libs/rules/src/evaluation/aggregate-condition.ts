import type { EventCondition } from '@shoal/contracts';
import {
  bucketIndicesOf,
  bucketsInWindow,
  countInWindow,
  measureReader,
  type MeasureValue,
} from '../incremental/aggregate';
import { aggregateSpecOf, windowPlanOf } from '../incremental/dependencies';
import type { EvaluationState } from '../incremental/state';
import {
  compareNumber,
  describeComparison,
  numericOperator,
  type NumericOperator,
} from '../language/comparison';
import { RuleError, RuleErrorCode } from '../language/errors';
import { windowChanges, windowEdges } from '../time/windows';
import { explanation, type CompiledLeaf, type Context } from './condition';
import { describeNumber, describeWindow } from './describe';

/** A count, sum, average, extreme or distinct count of an event's occurrences in a window. */
export function compileAggregate(
  event: EventCondition,
  path: string,
  context: Context,
): CompiledLeaf {
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
  const edgesByBuckets = new WeakMap<object, readonly number[]>();
  const valueOf = (state: EvaluationState, now: number): MeasureValue => {
    const aggregate = state.aggregates[spec.key];
    if (measure.case === 'count') {
      const value = countInWindow({ state: aggregate, plan, now, timeZone: context.timeZone });
      return { value, saturated: false };
    }
    return readMeasure(
      bucketsInWindow({ state: aggregate, plan, now, timeZone: context.timeZone }),
    );
  };
  // With validation keeping distinct thresholds at or below the cap, "more than the cap" decides
  // every comparison exactly, so the saturated reading (cap + 1) compares correctly.
  const evaluate = (state: EvaluationState, now: number): boolean =>
    compareNumber(operator, valueOf(state, now).value);
  const what =
    measure.case === 'count'
      ? `count of ${event.name}`
      : `${measure.case === 'distinctCount' ? 'distinct count' : measure.case} of ${event.name}.${measure.value.property}`;
  return {
    kind: 'leaf',
    evaluate,
    changeCandidates: (state, now) => {
      const aggregate = state.aggregates[spec.key];
      if (aggregate === undefined || plan.kind !== 'sliding') {
        return windowChanges(plan, [], now, context.timeZone);
      }
      // a next-change search asks at every instant it reaches, and every segment reading this
      // aggregate asks too: the edges are computed once per buckets object (never changed in place)
      let edges = edgesByBuckets.get(aggregate.buckets);
      if (edges === undefined) {
        edges = windowEdges(plan.shape, bucketIndicesOf(aggregate.buckets));
        edgesByBuckets.set(aggregate.buckets, edges);
      }
      return windowChanges(plan, [], now, context.timeZone, edges);
    },
    explain: (state, now) => {
      const { value, saturated } = valueOf(state, now);
      const shown =
        value === undefined
          ? 'has no value'
          : saturated
            ? `> ${cap}`
            : `= ${describeNumber(value)}`;
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
