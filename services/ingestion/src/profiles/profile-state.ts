import { isDeepStrictEqual } from 'node:util';
import type { JsonValue } from '@bufbuild/protobuf';
import type { IdentityKind } from '@shoal/contracts';

/**
 * When a value was written, for last-write-wins: the source's event time (ms), then the source
 * id (an upstream messageId, or "api:<request>") to break ties the same way everywhere.
 */
export interface Stamp {
  readonly t: number;
  readonly m: string;
}

/** A value with the stamp of the write that set it. */
export interface Stamped<V> extends Stamp {
  readonly v: V;
}

/** A tag as set or removed over gRPC, by whom. */
export interface TagEntry extends Stamped<boolean> {
  readonly by: string;
}

export interface Identity {
  readonly kind: IdentityKind;
  readonly value: string;
  /** For trait identities: the trait's name. */
  readonly trait?: string;
}

/** A recently seen message id (hashed) and the record it came in, for duplicates and replays. */
export interface SeenMessage {
  /** "<partition>:<offset>" of the upstream record. */
  readonly origin: string;
  /** When the record arrived (the broker's timestamp), ms. */
  readonly at: number;
  /** Seen by a profile since merged into this one: its changes were published under that one. */
  readonly absorbed: boolean;
}

/**
 * A profile as a join-semilattice: every field merges by a rule that is commutative,
 * associative and idempotent, so applying a record twice, applying records in another order,
 * or joining two copies of a profile written by different instances, all give the same state.
 * Traits, tags and accounts are last-write-wins by stamp; identities and absorbed profiles are
 * unions; times are min / max; the incarnation is the smallest seen. Only the recent message
 * ids are a bounded cache rather than a lattice (the newest within a window win).
 */
export interface ProfileState {
  readonly id: string;
  incarnation: string;
  createdAt: number;
  firstSeenAt: number;
  lastSeenAt: number;
  readonly identities: Map<string, Identity>;
  readonly traits: Map<string, Stamped<JsonValue>>;
  readonly tags: Map<string, TagEntry>;
  /** Accounts joined (v true) or left (v false). */
  readonly accounts: Map<string, Stamped<boolean>>;
  readonly absorbed: Set<string>;
  /** Recent message ids, by hash. */
  readonly seen: Map<string, SeenMessage>;
}

export function newProfile(id: string, incarnation: string, at: number): ProfileState {
  return {
    id,
    incarnation,
    createdAt: at,
    firstSeenAt: at,
    lastSeenAt: at,
    identities: new Map(),
    traits: new Map(),
    tags: new Map(),
    accounts: new Map(),
    absorbed: new Set(),
    seen: new Map(),
  };
}

/** Orders stamps: later time wins, then the larger source id. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  return a.m === b.m ? 0 : a.m < b.m ? -1 : 1;
}

/**
 * Whether `candidate` replaces `current` under last-write-wins. Equal stamps come from one
 * source and so normally carry one value; if not (a sender reusing a messageId), the larger
 * value in a canonical order wins, so the choice never depends on arrival order.
 */
export function wins<E extends Stamp & { v: unknown }>(
  candidate: E,
  current: E | undefined,
): boolean {
  if (current === undefined) return true;
  const order = compareStamps(candidate, current);
  if (order !== 0) return order > 0;
  return canonical(candidate.v) > canonical(current.v);
}

/** JSON with object keys sorted, for ordering values. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** What joining one profile into another changed in it, for the changes to publish. */
export interface JoinEffect {
  readonly traits: { key: string; previous: JsonValue | undefined; value: JsonValue }[];
  readonly tagsAdded: string[];
  readonly tagsRemoved: string[];
  readonly accountsJoined: string[];
  readonly accountsLeft: string[];
  readonly identitiesAdded: string[];
}

/** Sets a last-write-wins entry; returns the previous entry when the write won. */
export function setStamped<V, E extends Stamped<V>>(
  map: Map<string, E>,
  key: string,
  entry: E,
): { won: boolean; previous: E | undefined } {
  const previous = map.get(key);
  if (!wins(entry, previous)) return { won: false, previous };
  map.set(key, entry);
  return { won: true, previous };
}

/**
 * Joins `from` into `into` (mutating `into`) and says what changed in it. The result is the
 * least upper bound of both: joining again changes nothing.
 */
export function joinProfile(into: ProfileState, from: ProfileState): JoinEffect {
  const effect: JoinEffect = {
    traits: [],
    tagsAdded: [],
    tagsRemoved: [],
    accountsJoined: [],
    accountsLeft: [],
    identitiesAdded: [],
  };
  if (from.incarnation < into.incarnation) into.incarnation = from.incarnation;
  into.createdAt = Math.min(into.createdAt, from.createdAt);
  into.firstSeenAt = Math.min(into.firstSeenAt, from.firstSeenAt);
  into.lastSeenAt = Math.max(into.lastSeenAt, from.lastSeenAt);
  for (const [key, identity] of from.identities) {
    if (into.identities.has(key)) continue;
    into.identities.set(key, identity);
    effect.identitiesAdded.push(key);
  }
  for (const [key, entry] of from.traits) {
    const { won, previous } = setStamped(into.traits, key, entry);
    if (won && !isDeepStrictEqual(previous?.v, entry.v))
      effect.traits.push({ key, previous: previous?.v, value: entry.v });
  }
  for (const [tag, entry] of from.tags) {
    const { won, previous } = setStamped(into.tags, tag, entry);
    if (won && (previous?.v ?? false) !== entry.v)
      (entry.v ? effect.tagsAdded : effect.tagsRemoved).push(tag);
  }
  for (const [account, entry] of from.accounts) {
    const { won, previous } = setStamped(into.accounts, account, entry);
    if (won && (previous?.v ?? false) !== entry.v)
      (entry.v ? effect.accountsJoined : effect.accountsLeft).push(account);
  }
  for (const id of from.absorbed) into.absorbed.add(id);
  for (const [hash, seen] of from.seen) {
    const current = into.seen.get(hash);
    if (!current || seen.at > current.at) into.seen.set(hash, seen);
  }
  return effect;
}

/** A copy sharing nothing mutable with the original. */
export function copyProfile(profile: ProfileState): ProfileState {
  return {
    ...profile,
    identities: new Map(profile.identities),
    traits: new Map(profile.traits),
    tags: new Map(profile.tags),
    accounts: new Map(profile.accounts),
    absorbed: new Set(profile.absorbed),
    seen: new Map(profile.seen),
  };
}

/** Tags currently set, in name order. */
export function tagsOf(profile: ProfileState): string[] {
  return [...profile.tags]
    .filter(([, entry]) => entry.v)
    .map(([tag]) => tag)
    .sort();
}

/** Accounts currently joined, in id order. */
export function accountsOf(profile: ProfileState): string[] {
  return [...profile.accounts]
    .filter(([, entry]) => entry.v)
    .map(([id]) => id)
    .sort();
}

/**
 * Drops seen message ids older than `windowMs` before `now` and keeps at most `max` of the
 * newest; returns whether anything was dropped.
 */
export function trimSeen(
  profile: ProfileState,
  now: number,
  windowMs: number,
  max: number,
): boolean {
  const before = profile.seen.size;
  for (const [hash, seen] of profile.seen) {
    if (seen.at < now - windowMs) profile.seen.delete(hash);
  }
  if (profile.seen.size > max) {
    const newest = [...profile.seen].sort(([, a], [, b]) => b.at - a.at).slice(0, max);
    profile.seen.clear();
    for (const [hash, seen] of newest) profile.seen.set(hash, seen);
  }
  return profile.seen.size !== before;
}
