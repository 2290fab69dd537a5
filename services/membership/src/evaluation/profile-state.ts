import type { JsonObject } from '@bufbuild/protobuf';
import { emptyState, type EvaluationState } from '@shoal/rules';
import type { ContactVersion } from './contacts';

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
  /**
   * While a member: the value of the segment's value trait it is counted with in the segment's
   * value sum (absent when the segment names none, or the trait is missing or not a number), so
   * an exit subtracts exactly what was added.
   */
  value?: number;
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
  /**
   * The subject's key in its partition: the profile id, or for an account `account:<id>`
   * (`accountKey`), so an account and a profile never share a state whatever their ids.
   */
  readonly id: string;
  /** Set for an account (an `AUDIENCE_ACCOUNTS` subject): its account id. */
  readonly accountId?: string;
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
  offsets: { changes: number; lists: number; contacts?: number };
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
  /** A profile: the accounts it belongs to (`account_joined` / `account_left`), sorted. */
  accounts?: string[];
  /** A profile: the contact state last published to its accounts (JSON), and its record counter. */
  contactSent?: string;
  contactN?: number;
  /** An account: its contacts' profile ids, in the order of `state.contacts`. */
  contactIds?: string[];
  /** An account: the highest record version applied per contact, kept after it leaves. */
  contactVersions?: Record<string, ContactVersion>;
  /** An account: the latest instant it was evaluated at (contact records never go back before it). */
  evaluatedAt?: number;
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

/** The key of an account's state (profile ids never start with `account:`). */
export function accountKey(accountId: string): string {
  return `${ACCOUNT_PREFIX}${accountId}`;
}

const ACCOUNT_PREFIX = 'account:';

export function isAccountKey(key: string): boolean {
  return key.startsWith(ACCOUNT_PREFIX);
}

export function newAccountState(accountId: string, incarnation: string): ProfileState {
  return { ...newProfileState(accountKey(accountId), incarnation), accountId };
}

/** The id a subject's transitions and member lists carry: the profile id or the account id. */
export function subjectIdOf(subject: Pick<ProfileState, 'id' | 'accountId'>): string {
  return subject.accountId ?? subject.id;
}

export function chunkId(profileId: string, incarnation: string, n: number): string {
  return `${profileId}|${incarnation}|${n}`;
}
