// @shoal/rules — the rule language: validate, normalise, extract dependencies, compile,
// evaluate incrementally, find the next change instant, explain. The brute-force oracle and the
// property-test arbitraries are test support, in @shoal/rules/testing.

export {
  applyEvent,
  pruneBuckets,
  readAccumulators,
  type AggregateReading,
} from './incremental/aggregate';
export { applyEventToState, pruneState } from './incremental/apply';
export {
  compile,
  compileRule,
  toMs,
  type CompiledRule,
  type Instant,
  type RulePredicate,
  type RuleQuery,
} from './evaluation/compile';
export {
  checkSegmentReferences,
  evaluationOrder,
  membershipReferences,
  segmentReferences,
  type MembershipReference,
  type RuleLookup,
  type SegmentReference,
} from './language/cycles';
export {
  aggregateSpecOf,
  dependenciesOf,
  mergeSpecs,
  recencySpecOf,
  sequenceSpecOf,
  specsOf,
  type EventDependency,
  type RuleDependencies,
} from './incremental/dependencies';
export { describeNumber } from './evaluation/describe';
export { RuleError, RuleErrorCode, RuleViolationCode, type RuleViolation } from './language/errors';
export { explain } from './evaluation/explain';
export { DEFAULT_LIMITS, type RuleLimits } from './language/limits';
export {
  NEXT_CHANGE_MAX_STEPS,
  nextChange,
  nextChangeAt,
  type NextChange,
} from './incremental/next-change';
export { conditionKey, normaliseCondition, normaliseRule } from './language/normalise';
export { applyRecencyEvent } from './incremental/recency';
export {
  decideEntry,
  validateReentryPolicy,
  type EntryDecision,
  type MembershipTransition,
} from './evaluation/reentry';
export { applySequenceEvent, pruneSequence } from './incremental/sequence';
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
} from './incremental/state';
export {
  nestingViolation,
  parseRule,
  validateRule,
  type ValidationResult,
} from './language/validate';
export { bucketIndex, bucketStart, type BucketUnit } from './time/buckets';
export { addToSum, sumValue, type ExactSum } from './language/exact-sum';
export { pathSegments, resolvePath } from './language/values';
