import type { JsonObject } from '@bufbuild/protobuf';
import type { FieldCondition, SequenceStep } from '@shoal/contracts';
import type { ExactSum } from '../language/exact-sum';
import type { BucketUnit } from '../time/buckets';

// The per-subject evaluation state the membership service keeps, and the specs that say which
// derived state (event aggregates, first/last occurrences, sequence occurrences) a rule needs.
// These are runtime shapes, plain JSON so they can be stored as they are.

/** One event as the rules see it: its name, when it happened and its properties. */
export interface RuleEvent {
  readonly name: string;
  /** When the event happened (milliseconds since the epoch), not when it arrived. */
  readonly timestamp: number;
  readonly properties: JsonObject;
}

/** What one bucket of an aggregate holds; which fields are used depends on the accumulator kind. */
export interface Accumulator {
  /** `count`: matching events. `numeric`: numeric values seen. `distinct`: unused (0). */
  readonly count: number;
  /** `numeric`: the exact sum of the values. */
  readonly sum?: ExactSum;
  readonly min?: number;
  readonly max?: number;
  /** `distinct`: the distinct values (canonical JSON), sorted, at most the cap. */
  readonly values?: readonly string[];
  /** `distinct`: more distinct values than the cap were seen; `values` is then dropped. */
  readonly saturated?: boolean;
}

/** An aggregate's buckets, keyed by bucket index (or "all" / "range" for unbucketed specs). */
export interface AggregateState {
  readonly buckets: Readonly<Record<string, Accumulator>>;
}

/** The first and last instants of matching events ever seen. */
export interface RecencyState {
  readonly first: number;
  readonly last: number;
}

/**
 * The most recent occurrences (timestamps, ascending) of each step of a sequence, and of its
 * follow-up event; each list holds at most the spec's occurrence cap.
 */
export interface SequenceState {
  readonly steps: readonly (readonly number[])[];
  readonly followUps: readonly number[];
}

/** Everything a rule is evaluated against for one subject (a profile or an account). */
export interface EvaluationState {
  /** The subject's traits (a JSON object). */
  readonly traits: JsonObject;
  readonly tags: readonly string[];
  /** Ids of the static lists the subject is on. */
  readonly lists: readonly string[];
  /** Segment id to the instant the subject entered it, for the segments it is in now. */
  readonly segments: Readonly<Record<string, number>>;
  /** Aggregate state by AggregateSpec key. */
  readonly aggregates: Readonly<Record<string, AggregateState>>;
  /** First/last occurrence state by RecencySpec key. */
  readonly recency: Readonly<Record<string, RecencyState>>;
  /** Sequence state by SequenceSpec key. */
  readonly sequences: Readonly<Record<string, SequenceState>>;
  /** Account subjects: the states of the member profiles. */
  readonly contacts?: readonly EvaluationState[];
}

export function emptyState(init: Partial<EvaluationState> = {}): EvaluationState {
  return {
    traits: {},
    tags: [],
    lists: [],
    segments: {},
    aggregates: {},
    recency: {},
    sequences: {},
    ...init,
  };
}

/**
 * How a spec's events are bucketed. `all`: one running total of every event ever. `range`: one
 * total of the events in [from, to). Otherwise buckets of `unit` in `timeZone`, of which the
 * `retain` most recent (counting the current one) are needed by the windows using the spec.
 */
export type Bucketing =
  | { readonly unit: 'all' }
  | { readonly unit: 'range'; readonly from: number; readonly to: number }
  | SlidingBucketing;

/** Buckets of a unit, of which only the most recent are kept (the state of sliding windows). */
export interface SlidingBucketing {
  readonly unit: BucketUnit;
  readonly timeZone: string;
  readonly retain: number;
}

export function isSlidingBucketing(bucketing: Bucketing): bucketing is SlidingBucketing {
  return bucketing.unit !== 'all' && bucketing.unit !== 'range';
}

/** `count` counts events; `numeric` keeps count/sum/min/max of a numeric property; `distinct` a value set. */
export type AccumulatorKind = 'count' | 'numeric' | 'distinct';

/** An incrementally maintained aggregate of the events named `event` passing `where`. */
export interface AggregateSpec {
  readonly kind: 'aggregate';
  /** Deterministic identity: equal keys mean the same state, whoever asked for it. */
  readonly key: string;
  readonly event: string;
  /** Normalised property filters. */
  readonly where: readonly FieldCondition[];
  /** The zone filters read date-only values in (and calendar buckets use). */
  readonly timeZone: string;
  readonly accumulator: AccumulatorKind;
  /** The aggregated property ("" for count). */
  readonly property: string;
  readonly bucketing: Bucketing;
  readonly distinctValuesCap: number;
}

/** The first and last instants of the events named `event` passing `where`. */
export interface RecencySpec {
  readonly kind: 'recency';
  readonly key: string;
  readonly event: string;
  readonly where: readonly FieldCondition[];
  readonly timeZone: string;
}

/** The recent occurrences of a sequence's steps and follow-up event. */
export interface SequenceSpec {
  readonly kind: 'sequence';
  readonly key: string;
  /** Normalised steps (event and filters only; gaps and spans are evaluation parameters). */
  readonly steps: readonly SequenceStep[];
  readonly followUp: SequenceStep | undefined;
  readonly timeZone: string;
  /** How far back occurrences are needed (`all` and `range`: not pruned by time). */
  readonly bucketing: Bucketing;
  readonly occurrenceCap: number;
}

export type StateSpec = AggregateSpec | RecencySpec | SequenceSpec;
