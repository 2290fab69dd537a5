import type { JsonObject } from '@bufbuild/protobuf';
import type { Rule } from '@shoal/contracts';
import { applyEventToState } from '../incremental/apply';
import { specsOf } from '../incremental/dependencies';
import type { RuleLimits } from '../language/limits';
import { emptyState, type EvaluationState, type RuleEvent } from '../incremental/state';

/** An event for tests: name, ISO timestamp and properties. */
export function trackEvent(
  name: string,
  timestamp: string,
  properties: JsonObject = {},
): RuleEvent {
  return { name, timestamp: Date.parse(timestamp), properties };
}

/** The evaluation state after folding `events` (in the given order) into the specs `rule` needs. */
export function stateAfter({
  rule,
  events,
  init,
  limits,
}: {
  rule: Rule;
  events: readonly RuleEvent[];
  init?: Partial<EvaluationState>;
  limits?: Partial<RuleLimits>;
}): EvaluationState {
  const specs = specsOf({ rule, limits });
  return events.reduce(
    (state, event) => applyEventToState({ state, specs, event }),
    emptyState(init),
  );
}
