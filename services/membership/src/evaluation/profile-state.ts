import type { JsonObject } from '@bufbuild/protobuf';
import { emptyState, type EvaluationState } from '@shoal/rules';

// The state membership keeps per profile: plain JSON, so it is stored as it is (docs/membership.md).

/** One profile's membership of one segment; kept only once it has had a transition. */
export interface PairState {
  /** Transitions so far (the sequence of the last one). */
  seq: number;
  member: boolean;
  /** When it entered, while a member. */
  since?: number;
  /** Entered at least once (the ONCE re-entry policy). */
  everEntered?: boolean;
  /** When it last exited (the COOL_DOWN re-entry policy). */
  lastExitAt?: number;
}

/** One raw event kept for backfills: name, instant, properties. */
export interface HistoryEvent {
  readonly n: string;
  readonly t: number;
  readonly p: JsonObject;
}

/** A sealed chunk of a profile's history, as its state indexes it. */
export interface ChunkRef {
  /** Chunk number, from 0; the chunk's id is `<profile>|<incarnation>|<n>`. */
  readonly n: number;
  /** Earliest and latest event instants in the chunk. */
  readonly from: number;
  readonly to: number;
}

/** A sealed chunk with its events, to store. */
export interface HistoryChunk {
  readonly id: string;
  readonly profileId: string;
  readonly incarnation: string;
  readonly n: number;
  readonly events: readonly HistoryEvent[];
}

export interface ProfileState {
  readonly id: string;
  /**
   * The id of the change that created this state. Transition ids include it, so a profile
   * erased and seen again starts new ids instead of reusing old ones.
   */
  incarnation: string;
  /** The rule library's state: traits, tags, lists, segments, aggregates, recency, sequences. */
  state: EvaluationState;
  /** The highest sequence applied per static list, and whether the profile is on it. */
  listSequences: Record<string, { seq: number; member: boolean }>;
  pairs: Record<string, PairState>;
  /** The highest offset of each input topic this state includes (-1: none). */
  offsets: { changes: number; lists: number };
  /** Ids of the most recent profile changes applied (re-publications are dropped). */
  recentChanges: string[];
  /** When the last of them was applied. */
  recentAt?: number;
  /** Newest events, not sealed into a chunk yet. */
  tail: HistoryEvent[];
  chunks: ChunkRef[];
  /** Profiles merged into this one whose history is still to be carried over. */
  pendingMerges: string[];
  /** Set when this profile was absorbed by another: it is kept only to hand over its history. */
  mergedInto?: string;
  mergedAt?: number;
  /**
   * Its timer: no timed pair (time-relative rule, or a cool-down wait) can change before this
   * instant. It may be early (then nothing changes when it fires, and it moves on), never late.
   */
  nextAt?: number;
}

export function newProfileState(id: string, incarnation: string): ProfileState {
  return {
    id,
    incarnation,
    state: emptyState(),
    listSequences: {},
    pairs: {},
    offsets: { changes: -1, lists: -1 },
    recentChanges: [],
    tail: [],
    chunks: [],
    pendingMerges: [],
  };
}

export function chunkId(profileId: string, incarnation: string, n: number): string {
  return `${profileId}|${incarnation}|${n}`;
}
