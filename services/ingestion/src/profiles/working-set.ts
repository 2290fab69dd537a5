import { hash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { EventKind, type ProfileChange, type UpstreamEvent } from '@shoal/contracts';
import type { DomainError } from '@shoal/platform';
import type { AccountState } from '../accounts/account-state';
import {
  anonymousIdentity,
  hasUserId,
  identityKey,
  survivorOf,
  traitIdentity,
  userIdentity,
} from './identities';
import {
  type ChangeSource,
  type TraitDiff,
  accountMembership,
  accountTraitsChanged,
  eventRecorded,
  identityAdded,
  profileErased,
  profilesMerged,
  tagsChanged,
  traitsChanged,
} from './profile-changes';
import {
  type Identity,
  type ProfileState,
  type Stamp,
  joinProfile,
  newProfile,
  setStamped,
  trimSeen,
} from './profile-state';
import { ProfileError } from './profiles.errors';

/** What profiles may hold and how long message ids are remembered. */
export interface WorkingSetRules {
  /** Most identifiers one profile may have; a record that would exceed it is refused. */
  readonly maxIdentities: number;
  readonly identityTraits: readonly string[];
  /** A messageId seen again within this long is a duplicate. */
  readonly dedupWindowMs: number;
  /** Most message ids remembered per profile (the newest). */
  readonly dedupMaxPerProfile: number;
}

/** One upstream record to apply: the event and where it came from. */
export interface IngestRecord {
  readonly event: UpstreamEvent;
  /** "<partition>:<offset>" of the upstream record: a replay after a crash has the same. */
  readonly origin: string;
  /** The broker's timestamp of the record, ms. */
  readonly arrivedAt: number;
}

export type RecordOutcome =
  | { readonly kind: 'applied'; readonly changes: ProfileChange[] }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'refused'; readonly error: DomainError };

/** What must be in memory before a record can be applied. */
export interface Needs {
  /**
   * The record's own identifiers, each with the profile it would belong to if no one had it
   * yet (its user id's, else its anonymous id's): claimed in the identity graph when unknown.
   */
  readonly claims: readonly (readonly [key: string, profileId: string])[];
  /** Identifiers only to look up (an alias's previous id, as a user id and as an anonymous id). */
  readonly lookups: readonly string[];
  readonly accountIds: readonly string[];
}

/** What changed since the last checkpoint, to be written in the next one. */
export interface DirtyProfile {
  /** Everything must be written (a new or merged profile). */
  all: boolean;
  readonly traits: Set<string>;
  readonly tags: Set<string>;
  readonly accounts: Set<string>;
  readonly identities: Set<string>;
  readonly absorbed: Set<string>;
  seen: boolean;
  /** The profile was in the store when loaded (an upsert that creates it means it was deleted meanwhile). */
  readonly stored: boolean;
}

/** Dirty state taken for one checkpoint. */
export interface CheckpointSnapshot {
  readonly profiles: { state: ProfileState; dirty: DirtyProfile }[];
  readonly accounts: { state: AccountState; traits: Set<string>; all: boolean }[];
  /** Identity key → profile id, to write. */
  readonly identities: Map<string, string>;
  /** Profiles absorbed by merges: their documents go. */
  readonly deletedProfiles: string[];
}

/**
 * A message id as remembered: 64 bits of its hash, so any id fits the same few bytes; as a
 * string of 8 one-byte characters, the bytes themselves, which pack without decoding.
 */
export function messageHash(messageId: string): string {
  return hash('sha256', messageId, 'buffer').toString('latin1', 0, 8);
}

/**
 * The profiles, identities and accounts an ingestion instance works with, in memory: records are
 * applied here synchronously (after what they need was loaded), producing the changes to
 * publish, and the dirty state is taken for coalesced checkpoints. No I/O happens here.
 *
 * Identity resolution: an event's identifiers (user id, anonymous id, identifier traits, an
 * alias's previous id) resolve through the identity graph to profiles. Several profiles are
 * merged: a user-id profile survives over anonymous ones (survivorOf). A new user id seen with
 * anonymous profiles only gets its own profile, "user:<userId>", which absorbs them.
 */
export class WorkingSet {
  /** Live profiles by id; null: known not to exist in the store. */
  readonly profiles = new Map<string, ProfileState | null>();
  /** Identity key → profile id; null: known to be no one's. */
  readonly identities = new Map<string, string | null>();
  readonly accounts = new Map<string, AccountState | null>();
  private readonly dirtyProfiles = new Map<string, DirtyProfile>();
  private readonly dirtyAccounts = new Map<string, { traits: Set<string>; all: boolean }>();
  private readonly dirtyIdentities = new Map<string, string>();
  private readonly deleted = new Set<string>();
  /** Profiles created here that no checkpoint has taken yet: the store has no document of theirs. */
  private readonly unwritten = new Set<string>();
  /** Profiles with pending changes that cannot be evicted, in least-recently-used order. */
  private readonly recency = new Set<string>();

  constructor(private readonly rules: WorkingSetRules) {}

  /** The identifiers and accounts a record needs in memory. */
  needs(record: IngestRecord): Needs {
    const event = record.event;
    const keys = this.keysOf(event).map(({ key }) => key);
    const primary = keys[0] as string;
    const lookups =
      event.payload.case === 'alias'
        ? [
            identityKey(userIdentity(event.payload.value.previousId)),
            identityKey(anonymousIdentity(event.payload.value.previousId)),
          ]
        : [];
    return {
      claims: keys.map((key) => [key, primary] as const),
      lookups,
      accountIds: event.payload.case === 'group' ? [event.payload.value.groupId] : [],
    };
  }

  /** Applies one record; everything `needs` named must have been loaded. */
  apply(record: IngestRecord, recordedAt: number): RecordOutcome {
    const event = record.event;
    const at = event.timestamp ? timestampMs(event.timestamp) : record.arrivedAt;
    const keyed = this.keysOf(event);
    if (event.payload.case === 'alias')
      keyed.push(this.previousIdentity(event.payload.value.previousId));

    const live = this.liveProfilesOf(keyed.map(({ key }) => key));
    const hash = messageHash(event.messageId);
    let replayOfAbsorbed = false;
    for (const profile of live) {
      const seen = profile.seen.get(hash);
      if (!seen) continue;
      if (seen.origin !== record.origin) return { kind: 'duplicate' };
      replayOfAbsorbed ||= seen.absorbed;
    }

    const userKey = event.userId ? identityKey(userIdentity(event.userId)) : undefined;
    const reKey =
      userKey !== undefined &&
      !live.some(hasUserId) &&
      !live.some((p) => p.identities.has(userKey));
    const survivor = live.length > 0 && !reKey ? survivorOf(live) : undefined;
    const absorbed = live.filter((p) => p !== survivor);

    const identities = new Set<string>(survivor?.identities.keys() ?? []);
    for (const p of absorbed) for (const key of p.identities.keys()) identities.add(key);
    for (const { key } of keyed) identities.add(key);
    if (identities.size > this.rules.maxIdentities) {
      const what = absorbed.length > 0 ? `merging ${[...live].map((p) => p.id).join(', ')}` : 'it';
      return {
        kind: 'refused',
        error: ProfileError.identityLimit(what, identities.size, this.rules.maxIdentities),
      };
    }

    const target = survivor ?? this.create(userKey ?? keyed[0]!.key, event, record, at);
    const source: ChangeSource = { sourceId: event.messageId, occurredAt: at, recordedAt };
    const changes: ProfileChange[] = [];
    if (absorbed.length > 0) changes.push(...this.merge(target, absorbed, source));
    for (const { key, identity } of keyed) {
      if (target.identities.has(key)) continue;
      target.identities.set(key, identity);
      this.dirty(target).identities.add(key);
      changes.push(identityAdded(source, target, key, identity));
    }
    for (const { key } of keyed) this.pointIdentity(key, target.id);
    if (at < target.firstSeenAt || at > target.lastSeenAt) {
      target.firstSeenAt = Math.min(target.firstSeenAt, at);
      target.lastSeenAt = Math.max(target.lastSeenAt, at);
      this.dirty(target);
    }
    changes.push(...this.payloadEffects(target, event, source));
    target.seen.set(hash, { origin: record.origin, at: record.arrivedAt, absorbed: false });
    while (target.seen.size > this.rules.dedupMaxPerProfile) {
      const oldest = target.seen.keys().next();
      if (!oldest.done) target.seen.delete(oldest.value);
    }
    this.dirty(target).seen = true;
    this.touch(target.id);
    return { kind: 'applied', changes: replayOfAbsorbed ? [] : changes };
  }

  /**
   * Sets (`on`) or removes tags; the changes to publish (none when nothing changed). Later
   * requests win over earlier ones, whatever their request ids.
   */
  changeTags(
    profile: ProfileState,
    tags: readonly string[],
    on: boolean,
    stamp: Stamp,
    source: ChangeSource & { actor: string },
  ): ProfileChange[] {
    const changed: string[] = [];
    for (const tag of tags) {
      // a later request wins here even within the same millisecond
      const t = Math.max(stamp.t, (profile.tags.get(tag)?.t ?? -1) + 1);
      const { won, previous } = setStamped(profile.tags, tag, {
        t,
        m: stamp.m,
        v: on,
        by: source.actor,
      });
      if (!won) continue;
      this.dirty(profile).tags.add(tag);
      if ((previous?.v ?? false) !== on) changed.push(tag);
    }
    this.touch(profile.id);
    if (changed.length === 0) return [];
    return [tagsChanged(source, profile, on ? changed : [], on ? [] : changed)];
  }

  /**
   * Forgets an erased profile: it leaves memory and the pending checkpoint; its documents are
   * deleted by the caller. The changes to publish.
   */
  erase(profile: ProfileState, source: ChangeSource & { actor: string }): ProfileChange[] {
    this.profiles.delete(profile.id);
    this.dirtyProfiles.delete(profile.id);
    this.recency.delete(profile.id);
    this.unwritten.delete(profile.id);
    for (const key of profile.identities.keys()) {
      this.identities.delete(key);
      this.dirtyIdentities.delete(key);
    }
    return profileErased(source, profile, [...profile.absorbed]);
  }

  /** The live profile an id names, following a merge to the survivor; undefined when unknown here. */
  live(profileId: string): ProfileState | undefined {
    const direct = this.profiles.get(profileId);
    if (direct) return direct;
    const survivor = this.identities.get(profileId);
    return survivor ? (this.profiles.get(survivor) ?? undefined) : undefined;
  }

  /**
   * Takes the dirty state for a checkpoint (forgetting message ids older than the window before
   * `now`); what changes afterwards goes to the next one.
   */
  takeSnapshot(now: number): CheckpointSnapshot {
    const snapshot: CheckpointSnapshot = {
      profiles: [...this.dirtyProfiles].flatMap(([id, dirty]) => {
        const state = this.profiles.get(id);
        if (!state) return [];
        if (trimSeen(state, now, this.rules.dedupWindowMs, this.rules.dedupMaxPerProfile))
          dirty.seen = true;
        return [{ state, dirty }];
      }),
      accounts: [...this.dirtyAccounts].flatMap(([id, dirty]) => {
        const state = this.accounts.get(id);
        return state ? [{ state, ...dirty }] : [];
      }),
      identities: new Map(this.dirtyIdentities),
      deletedProfiles: [...this.deleted],
    };
    this.dirtyProfiles.clear();
    this.dirtyAccounts.clear();
    this.dirtyIdentities.clear();
    this.deleted.clear();
    this.unwritten.clear();
    return snapshot;
  }

  /** Puts a snapshot whose writes failed back, to go with the next checkpoint. */
  restore(snapshot: CheckpointSnapshot): void {
    for (const { state, dirty } of snapshot.profiles) {
      if (this.profiles.get(state.id) !== state) continue;
      const since = this.dirtyProfiles.get(state.id);
      this.dirtyProfiles.set(state.id, {
        ...emptyDirty(dirty.stored && (since?.stored ?? true)),
        all: true,
      });
    }
    for (const { state } of snapshot.accounts) {
      const dirty = this.dirtyAccounts.get(state.id) ?? { traits: new Set(), all: true };
      dirty.all = true;
      this.dirtyAccounts.set(state.id, dirty);
    }
    for (const [key, profileId] of snapshot.identities) {
      if (!this.dirtyIdentities.has(key)) this.dirtyIdentities.set(key, profileId);
    }
    for (const id of snapshot.deletedProfiles) if (!this.profiles.get(id)) this.deleted.add(id);
  }

  get pendingProfiles(): number {
    return this.dirtyProfiles.size;
  }

  /**
   * Forgets the least recently used clean profiles beyond `max` (and their identities), so
   * memory stays bounded; they are loaded again when needed.
   */
  evict(max: number, keep: ReadonlySet<string>): void {
    let over = this.recency.size - max;
    for (const id of this.recency) {
      if (over <= 0) break;
      const profile = this.profiles.get(id);
      if (this.dirtyProfiles.has(id) || keep.has(id)) continue;
      if (profile && [...profile.identities.keys()].some((key) => keep.has(key))) continue;
      this.recency.delete(id);
      this.profiles.delete(id);
      for (const key of profile?.identities.keys() ?? []) this.identities.delete(key);
      over--;
    }
    // what is known not to exist is cheap to know again; keep only what is in use
    for (const [id, state] of this.profiles)
      if (state === null && !keep.has(id)) this.profiles.delete(id);
    for (const [key, id] of this.identities)
      if (id === null && !keep.has(key)) this.identities.delete(key);
    for (const [id, state] of this.accounts) {
      if (!this.dirtyAccounts.has(id) && (state === null || this.accounts.size > max))
        this.accounts.delete(id);
    }
  }

  /** Marks a profile as used now (for eviction order). */
  touch(profileId: string): void {
    this.recency.delete(profileId);
    this.recency.add(profileId);
  }

  private keysOf(event: UpstreamEvent): { key: string; identity: Identity }[] {
    const identities: Identity[] = [];
    if (event.userId) identities.push(userIdentity(event.userId));
    if (event.anonymousId) identities.push(anonymousIdentity(event.anonymousId));
    if (event.payload.case === 'identify') {
      const traits = event.payload.value.traits ?? {};
      for (const trait of this.rules.identityTraits) {
        const value = traits[trait];
        if (typeof value === 'string' && value !== '') identities.push(traitIdentity(trait, value));
      }
    }
    return identities.map((identity) => ({ key: identityKey(identity), identity }));
  }

  /** An alias's previous id: the user id or anonymous id it is known as, else a user id. */
  private previousIdentity(previousId: string): { key: string; identity: Identity } {
    for (const identity of [userIdentity(previousId), anonymousIdentity(previousId)]) {
      const key = identityKey(identity);
      const id = this.identities.get(key);
      if (id && this.profiles.get(id)) return { key, identity };
    }
    const identity = userIdentity(previousId);
    return { key: identityKey(identity), identity };
  }

  /** The distinct live profiles the keys resolve to, in key order. */
  private liveProfilesOf(keys: readonly string[]): ProfileState[] {
    const found: ProfileState[] = [];
    for (const key of keys) {
      if (!this.identities.has(key)) throw new Error(`identity ${key} was not loaded`);
      const id = this.identities.get(key);
      if (!id) continue;
      const profile = this.profiles.get(id);
      if (profile === undefined) throw new Error(`profile ${id} was not loaded`);
      if (profile && !found.includes(profile)) found.push(profile);
    }
    return found;
  }

  /**
   * Makes what the engine loaded from the store known: identities (null: no one's), profiles
   * and accounts (null: not stored).
   */
  remember(loaded: {
    identities?: ReadonlyMap<string, string | null>;
    profiles?: ReadonlyMap<string, ProfileState | null>;
    accounts?: ReadonlyMap<string, AccountState | null>;
  }): void {
    for (const [key, id] of loaded.identities ?? []) {
      if (!this.identities.get(key)) this.identities.set(key, id);
    }
    for (const [id, state] of loaded.profiles ?? []) {
      if (this.profiles.get(id) || this.deleted.has(id)) continue;
      this.profiles.set(id, state);
      if (state) this.touch(id);
    }
    for (const [id, state] of loaded.accounts ?? []) {
      if (!this.accounts.get(id)) this.accounts.set(id, state);
    }
  }

  /**
   * Merges a profile that was merged into `survivor` elsewhere (by another instance) while this
   * one still held it: what it holds goes to the survivor, told as a merge of its own.
   */
  absorb(survivor: ProfileState, profile: ProfileState, source: ChangeSource): ProfileChange[] {
    if (survivor === profile) return [];
    this.profiles.set(profile.id, profile);
    const changes = this.merge(survivor, [profile], source);
    this.touch(survivor.id);
    return changes;
  }

  /** Of what records need, what is not in memory: identities to claim or look up, then profiles. */
  missing(needs: readonly Needs[]): {
    claims: Map<string, string>;
    lookups: Set<string>;
    profileIds: Set<string>;
    accountIds: Set<string>;
  } {
    const claims = new Map<string, string>();
    const lookups = new Set<string>();
    const profileIds = new Set<string>();
    const accountIds = new Set<string>();
    const profileOf = (key: string) => {
      const id = this.identities.get(key);
      if (id && !this.profiles.has(id)) profileIds.add(id);
    };
    for (const need of needs) {
      for (const [key, primary] of need.claims) {
        if (!this.identities.has(key)) {
          // a new identifier goes to the profile the record's own identifier names
          if (!claims.has(key)) claims.set(key, this.identities.get(primary) ?? primary);
        } else profileOf(key);
      }
      for (const key of need.lookups) {
        if (!this.identities.has(key)) lookups.add(key);
        else profileOf(key);
      }
      for (const id of need.accountIds) if (!this.accounts.has(id)) accountIds.add(id);
    }
    for (const key of claims.keys()) lookups.delete(key);
    return { claims, lookups, profileIds, accountIds };
  }

  private create(id: string, event: UpstreamEvent, record: IngestRecord, at: number): ProfileState {
    const incarnation = hash(
      'sha256',
      `${id}\n${event.messageId}\n${record.origin}`,
      'base64url',
    ).slice(0, 12);
    const profile = newProfile(id, incarnation, at);
    this.profiles.set(id, profile);
    this.dirtyProfiles.set(id, { ...emptyDirty(false), all: true });
    this.deleted.delete(id);
    this.unwritten.add(id);
    return profile;
  }

  /** Joins the absorbed profiles into the survivor; the changes that tell it. */
  private merge(
    survivor: ProfileState,
    absorbed: readonly ProfileState[],
    source: ChangeSource,
  ): ProfileChange[] {
    const traits = new Map<string, TraitDiff>();
    const tagsAdded = new Set<string>();
    const tagsRemoved = new Set<string>();
    const accounts = new Map<string, boolean>();
    const identities: string[] = [];
    for (const profile of absorbed) {
      const seenBefore = new Set(survivor.seen.keys());
      const effect = joinProfile(survivor, profile);
      for (const hash of profile.seen.keys()) {
        const seen = survivor.seen.get(hash);
        if (seen && !seenBefore.has(hash)) survivor.seen.set(hash, { ...seen, absorbed: true });
      }
      survivor.absorbed.add(profile.id);
      for (const diff of effect.traits) {
        const first = traits.get(diff.key);
        traits.set(diff.key, { ...diff, previous: first ? first.previous : diff.previous });
      }
      effect.tagsAdded.forEach((t) => (tagsRemoved.delete(t), tagsAdded.add(t)));
      effect.tagsRemoved.forEach((t) => (tagsAdded.delete(t), tagsRemoved.add(t)));
      effect.accountsJoined.forEach((a) => accounts.set(a, true));
      effect.accountsLeft.forEach((a) => accounts.set(a, false));
      identities.push(...effect.identitiesAdded);
      this.profiles.delete(profile.id);
      this.dirtyProfiles.delete(profile.id);
      this.recency.delete(profile.id);
      // a profile no checkpoint took has no document to delete (a frequent case: an anonymous
      // visitor identifying soon after arriving)
      if (!this.unwritten.delete(profile.id)) this.deleted.add(profile.id);
      for (const key of profile.identities.keys()) this.pointIdentity(key, survivor.id);
    }
    this.dirty(survivor).all = true;
    const changes = profilesMerged(source, survivor, absorbed);
    for (const key of identities) {
      const identity = survivor.identities.get(key);
      if (identity) changes.push(identityAdded(source, survivor, key, identity));
    }
    const traitDiffs = [...traits.values()].filter((d) => !isDeepStrictEqual(d.previous, d.value));
    if (traitDiffs.length > 0)
      changes.push(traitsChanged(source, survivor, traitDiffs, 'merge-traits'));
    if (tagsAdded.size + tagsRemoved.size > 0)
      changes.push(tagsChanged(source, survivor, [...tagsAdded], [...tagsRemoved], 'merge-tags'));
    for (const [account, joined] of accounts)
      changes.push(accountMembership(source, survivor, account, joined));
    return changes;
  }

  private payloadEffects(
    profile: ProfileState,
    event: UpstreamEvent,
    source: ChangeSource,
  ): ProfileChange[] {
    const stamp = { t: source.occurredAt, m: source.sourceId };
    const payload = event.payload;
    switch (payload.case) {
      case 'track':
        return [
          eventRecorded(source, profile, {
            name: payload.value.event,
            kind: EventKind.TRACK,
            properties: payload.value.properties,
          }),
        ];
      case 'page':
      case 'screen':
        return [
          eventRecorded(source, profile, {
            name: payload.case === 'page' ? 'Page Viewed' : 'Screen Viewed',
            kind: payload.case === 'page' ? EventKind.PAGE : EventKind.SCREEN,
            properties: {
              ...payload.value.properties,
              ...(payload.value.name ? { name: payload.value.name } : {}),
              ...(payload.value.category ? { category: payload.value.category } : {}),
            },
          }),
        ];
      case 'identify': {
        const diffs = this.setTraits(profile.traits, payload.value.traits, stamp, (key) =>
          this.dirty(profile).traits.add(key),
        );
        return diffs.length > 0 ? [traitsChanged(source, profile, diffs)] : [];
      }
      case 'group': {
        const accountId = payload.value.groupId;
        const changes: ProfileChange[] = [];
        const account = this.account(accountId, source.occurredAt);
        const diffs = this.setTraits(account.traits, payload.value.traits, stamp, (key) =>
          this.dirtyAccount(accountId).traits.add(key),
        );
        if (source.occurredAt < account.firstSeenAt || source.occurredAt > account.lastSeenAt) {
          account.firstSeenAt = Math.min(account.firstSeenAt, source.occurredAt);
          account.lastSeenAt = Math.max(account.lastSeenAt, source.occurredAt);
          this.dirtyAccount(accountId);
        }
        if (diffs.length > 0) changes.push(accountTraitsChanged(source, accountId, diffs));
        const { won, previous } = setStamped(profile.accounts, accountId, { ...stamp, v: true });
        if (won) this.dirty(profile).accounts.add(accountId);
        if (won && !previous?.v) changes.push(accountMembership(source, profile, accountId, true));
        return changes;
      }
      case 'alias':
      case undefined:
        return [];
    }
  }

  private setTraits(
    traits: Map<string, { t: number; m: string; v: JsonValue }>,
    values: JsonObject | undefined,
    stamp: Stamp,
    changed: (key: string) => void,
  ): TraitDiff[] {
    const diffs: TraitDiff[] = [];
    for (const [key, value] of Object.entries(values ?? {})) {
      const { won, previous } = setStamped(traits, key, { ...stamp, v: value as JsonValue });
      if (!won) continue;
      changed(key);
      if (!isDeepStrictEqual(previous?.v, value))
        diffs.push({ key, previous: previous?.v, value: value as JsonValue });
    }
    return diffs;
  }

  private account(id: string, at: number): AccountState {
    const known = this.accounts.get(id);
    if (known === undefined) throw new Error(`account ${id} was not loaded`);
    if (known) return known;
    const account: AccountState = { id, traits: new Map(), firstSeenAt: at, lastSeenAt: at };
    this.accounts.set(id, account);
    this.dirtyAccount(id).all = true;
    return account;
  }

  private pointIdentity(key: string, profileId: string): void {
    if (this.identities.get(key) === profileId) return;
    this.identities.set(key, profileId);
    this.dirtyIdentities.set(key, profileId);
  }

  private dirty(profile: ProfileState): DirtyProfile {
    let dirty = this.dirtyProfiles.get(profile.id);
    if (!dirty) {
      dirty = emptyDirty(true);
      this.dirtyProfiles.set(profile.id, dirty);
    }
    return dirty;
  }

  private dirtyAccount(id: string): { traits: Set<string>; all: boolean } {
    let dirty = this.dirtyAccounts.get(id);
    if (!dirty) {
      dirty = { traits: new Set(), all: false };
      this.dirtyAccounts.set(id, dirty);
    }
    return dirty;
  }
}

function emptyDirty(stored: boolean): DirtyProfile {
  return {
    all: false,
    traits: new Set(),
    tags: new Set(),
    accounts: new Set(),
    identities: new Set(),
    absorbed: new Set(),
    seen: false,
    stored,
  };
}
