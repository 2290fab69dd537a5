import type { JsonObject } from '@bufbuild/protobuf';
import type { Rule } from '@shoal/contracts';
import { applyEventToState } from '../apply';
import { specsOf } from '../dependencies';
import type { RuleLimits } from '../limits';
import { emptyState, type EvaluationState, type RuleEvent } from '../state';

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
