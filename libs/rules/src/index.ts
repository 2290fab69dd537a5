// @shoal/rules — the rule language: validate, normalise, extract dependencies, compile,
// evaluate incrementally, find the next change instant, explain, and the brute-force oracle.

export { applyEvent, pruneBuckets, readAccumulators, type AggregateReading } from './aggregate';
export { applyEventToState, pruneState } from './apply';
export {
  compile,
  compileRule,
  toMs,
  type CompiledRule,
  type Instant,
  type RulePredicate,
} from './compile';
export {
  checkSegmentReferences,
  evaluationOrder,
  membershipReferences,
  segmentReferences,
  type MembershipReference,
  type RuleLookup,
  type SegmentReference,
} from './cycles';
export {
  aggregateSpecOf,
  dependenciesOf,
  mergeSpecs,
  recencySpecOf,
  sequenceSpecOf,
  specsOf,
  type EventDependency,
  type RuleDependencies,
} from './dependencies';
export { RuleError, RuleErrorCode, RuleViolationCode, type RuleViolation } from './errors';
export { explain } from './explain';
export { DEFAULT_LIMITS, type RuleLimits } from './limits';
export { NEXT_CHANGE_MAX_STEPS, nextChange, nextChangeAt, type NextChange } from './next-change';
export { conditionKey, normaliseCondition, normaliseRule } from './normalise';
export { oracle, type SubjectHistory } from './oracle';
export { applyRecencyEvent } from './recency';
export {
  decideEntry,
  validateReentryPolicy,
  type EntryDecision,
  type MembershipTransition,
} from './reentry';
export { applySequenceEvent, pruneSequence } from './sequence';
export {
  emptyState,
  type Accumulator,
  type AccumulatorKind,
  type AggregateSpec,
  type AggregateState,
  type Bucketing,
  type EvaluationState,
  type RecencySpec,
  type RecencyState,
  type RuleEvent,
  type SequenceSpec,
  type SequenceState,
  type StateSpec,
} from './state';
export { nestingViolation, parseRule, validateRule, type ValidationResult } from './validate';
export { bucketIndex, bucketStart, type BucketUnit } from './windows';
