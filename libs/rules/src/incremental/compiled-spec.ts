import type { FieldCondition } from '@shoal/contracts';
import { assertNever } from '../language/errors';
import { compileFilters } from '../evaluation/field';
import type { AggregateSpec, RecencySpec, RuleEvent, SequenceSpec, StateSpec } from './state';
import { pathSegments } from '../language/values';

// What folding events into a spec's state needs from the spec (event matchers, the aggregated
// property's path), compiled once per spec object.
// Callers keep their spec objects across events (specsOf once per rule, not per event), so the
// cache is keyed by the object and forgets specs nobody holds. There is no cache by key string:
// a caller rebuilding its specs for every event already pays more for that (normalising and
// keying every filter) than for the compilation it causes here.

/** Whether an event is one a spec (or sequence step) counts: right name, every filter passes. */
export type EventMatcher = (event: RuleEvent) => boolean;

export interface CompiledAggregateSpec {
  readonly matches: EventMatcher;
  /** The aggregated property's path segments (undefined for a count). */
  readonly property: readonly string[] | undefined;
}

export interface CompiledRecencySpec {
  readonly matches: EventMatcher;
}

export interface CompiledSequenceSpec {
  /** One matcher per step, in step order. */
  readonly steps: readonly EventMatcher[];
  readonly followUp: EventMatcher | undefined;
}

type CompiledSpec = CompiledAggregateSpec | CompiledRecencySpec | CompiledSequenceSpec;

const compiledSpecs = new WeakMap<StateSpec, CompiledSpec>();

export function compiledSpec(spec: AggregateSpec): CompiledAggregateSpec;
export function compiledSpec(spec: RecencySpec): CompiledRecencySpec;
export function compiledSpec(spec: SequenceSpec): CompiledSequenceSpec;
export function compiledSpec(spec: StateSpec): CompiledSpec {
  let compiled = compiledSpecs.get(spec);
  if (compiled === undefined) {
    compiled = compileSpec(spec);
    compiledSpecs.set(spec, compiled);
  }
  return compiled;
}

function compileSpec(spec: StateSpec): CompiledSpec {
  switch (spec.kind) {
    case 'aggregate':
      return {
        matches: eventMatcher(spec.event, spec.where, spec.timeZone),
        property: pathSegments(spec.property),
      };
    case 'recency':
      return { matches: eventMatcher(spec.event, spec.where, spec.timeZone) };
    case 'sequence':
      return {
        steps: spec.steps.map((step) => eventMatcher(step.event, step.where, spec.timeZone)),
        followUp:
          spec.followUp === undefined
            ? undefined
            : eventMatcher(spec.followUp.event, spec.followUp.where, spec.timeZone),
      };
    default:
      return assertNever(spec, 'state spec');
  }
}

function eventMatcher(
  name: string,
  where: readonly FieldCondition[],
  timeZone: string,
): EventMatcher {
  const passes = compileFilters({ filters: where, timeZone });
  return (event) => event.name === name && passes(event.properties);
}
