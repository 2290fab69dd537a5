import type { FieldCondition } from '@shoal/contracts';
import type { EvaluationState } from '../incremental/state';
import { resolvePath } from '../language/values';
import { ascendingAfter, explanation, type CompiledLeaf, type Context } from './condition';
import { compileField } from './field';

export function compileTrait(
  condition: FieldCondition,
  path: string,
  context: Context,
): CompiledLeaf {
  const field = compileField({ condition, timeZone: context.timeZone });
  const evaluate = (state: EvaluationState, now: number): boolean =>
    field.test(state.traits, now, state.traits);
  return {
    kind: 'leaf',
    evaluate,
    changeCandidates: (state, now) =>
      field.relative ? ascendingAfter(now, field.breakpoints(state.traits, now)) : [],
    explain: (state, now) => {
      const observed = resolvePath(state.traits, condition.path);
      const seen = observed === undefined ? 'is missing' : `= ${JSON.stringify(observed)}`;
      return explanation({
        path,
        matched: evaluate(state, now),
        summary: `trait ${condition.path} ${seen} (needs ${field.describe(now, state.traits)})`,
        observed,
      });
    },
  };
}
