import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { RuleExplanationSchema, type RuleExplanation } from '@shoal/contracts';
import { compileRule, toMs, type RuleQuery } from './compile';
import { nextChangeAt } from '../incremental/next-change';

/**
 * Why a rule matches or not for a subject at an instant: a tree mirroring the rule, each node
 * with its value and, for leaves, what was observed against what was needed
 * (e.g. "count of Order Completed in the last 90 days = 3 (needs > 1)").
 */
export function explain({ rule, state, now, limits }: RuleQuery): RuleExplanation {
  const at = toMs(now);
  const { root } = compileRule({ rule, limits });
  const next = nextChangeAt({ rule, state, now: at, limits });
  return create(RuleExplanationSchema, {
    matched: root.evaluate(state, at),
    evaluatedAt: timestampFromMs(at),
    nextChangeAt: next === undefined ? undefined : timestampFromMs(next),
    condition: root.explain(state, at),
  });
}
