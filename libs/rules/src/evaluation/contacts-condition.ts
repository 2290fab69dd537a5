import type { EvaluationState } from '../incremental/state';
import { compareNumber, describeComparison, type NumericOperator } from '../language/comparison';
import { explanation, type CompiledCondition, type CompiledContacts } from './condition';

/** How many of an account's contacts meet a profile condition, compared with a threshold. */
export function compileContacts(
  member: CompiledCondition,
  operator: NumericOperator,
  path: string,
): CompiledContacts {
  const countAt = (state: EvaluationState, now: number): number =>
    (state.contacts ?? []).filter((contact) => member.evaluate(contact, now)).length;
  const passes = (count: number): boolean => compareNumber(operator, count);
  const evaluate = (state: EvaluationState, now: number): boolean => passes(countAt(state, now));
  return {
    kind: 'contacts',
    member,
    passes,
    evaluate,
    explain: (state, now) => {
      const count = countAt(state, now);
      return explanation({
        path,
        matched: passes(count),
        summary: `${count} of ${(state.contacts ?? []).length} contacts match (needs ${describeComparison(operator)})`,
        observed: count,
        children: (state.contacts ?? []).map((contact) => member.explain(contact, now)),
      });
    },
  };
}
