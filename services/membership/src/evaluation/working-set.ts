import { toJson, type JsonObject } from '@bufbuild/protobuf';
import { ValueSchema, timestampMs } from '@bufbuild/protobuf/wkt';
import {
  ReentryMode,
  TransitionCause,
  type ListMembershipChanged,
  type ProfileChange,
  type TraitChange,
} from '@shoal/contracts';
import {
  applyEventToState,
  decideEntry,
  emptyState,
  nextChange,
  pruneState,
  resolvePath,
  type EvaluationState,
  type MembershipTransition as PastTransition,
  type RuleEvent,
  type StateSpec,
} from '@shoal/rules';
import {
  NO_CONTACTS_PROGRESS,
  compareVersions,
  contactStateOf,
  type ContactMessage,
  type ContactOutput,
  type ContactsProgress,
} from './contacts';
import { MemberIndex, MEMBER_BUCKETS, type BucketDigest } from './member-index';
import {
  accountKey,
  chunkId,
  isAccountKey,
  newAccountState,
  newProfileState,
  subjectIdOf,
  type HistoryChunk,
  type HistoryEvent,
  type PairState,
  type ProfileState,
} from './profile-state';
import { ProfileTable, type PackedSummary } from './profile-table';
import { readKeysOfSegment } from './read-keys';
import { RankQueue } from './rank-queue';
import {
  EMPTY_SUMMARY,
  NOTHING_READ_SINCE,
  retainOf,
  summaryOf,
  type CatalogueSegment,
  type CatalogueSummary,
  type SegmentCatalogue,
} from './segment-catalogue';
import { SpecBackfill } from './spec-backfill';
import { TimerQueue } from './timer-queue';
import { transitionId, type PublishedTransition, type Transition } from './transition';

export interface WorkingSetOptions {
  /** Events kept in a profile's state before they are sealed into a history chunk. */
  readonly historyChunkSize: number;
  /** How many recent profile-change ids a profile remembers to drop re-publications. */
  readonly recentChangesKept: number;
  /**
   * How long they are remembered: ingestion re-publishes after its own crash, within minutes; a
   * profile changing again after a longer quiet period forgets the ids (memory stays small).
   */
  readonly recentChangesWindowMs: number;
  /** How long raw event history is kept; 0 keeps it for ever. */
  readonly historyRetentionMs: number;
  /** How long an absorbed profile's history is kept for its survivor to take over. */
  readonly ghostRetentionMs: number;
  /**
   * How many of the partition's subjects are kept as live objects (the most recently used); the
   * others are kept packed and revived when used (ProfileTable).
   */
  readonly hotProfiles: number;
}

export const DEFAULT_WORKING_SET_OPTIONS: WorkingSetOptions = {
  historyChunkSize: 32,
  recentChangesKept: 64,
  recentChangesWindowMs: 15 * 60_000,
  historyRetentionMs: 0,
  ghostRetentionMs: 7 * 86_400_000,
  hotProfiles: 2_000,
};

/** A member chunk to store: the members of one segment in one bucket of this partition. */
export interface BucketWrite {
  readonly segmentId: string;
  readonly bucket: number;
  /** Sorted; empty means the chunk is to be deleted. */
  readonly members: readonly string[];
}

/** What changed since the last checkpoint, to write in this order. */
export interface Checkpoint {
  readonly chunks: readonly HistoryChunk[];
  /** The states of the profiles that changed (live objects: serialise them before yielding). */
  readonly states: readonly ProfileState[];
  readonly deletedProfiles: readonly string[];
  readonly droppedChunks: readonly string[];
  readonly buckets: readonly BucketWrite[];
  readonly applied: CatalogueSummary;
  readonly contacts: ContactsProgress;
}

/** A refresh step's outcome: its transitions and how many of them entered and exited. */
export interface RefreshOutcome {
  readonly transitions: Transition[];
  readonly entered: number;
  readonly exited: number;
  /** Profiles decided while packed (nothing could change for them), so left packed. */
  readonly leftPacked: number;
}

/**
 * The evaluation core of one partition: every profile's state, the members of every segment and
 * the timers, in memory; no I/O. Each operation applies one input (a profile change, a list
 * change, due timers, a catalogue change, a refresh, a merge hand-over) at one instant and returns
 * the transitions it decided; what changed is collected for the next checkpoint. The caller runs
 * the operations of a partition one at a time (docs/membership.md).
 */
export class PartitionWorkingSet {
  readonly profiles: ProfileTable;
  private catalogue: SegmentCatalogue;
  private applied: CatalogueSummary = EMPTY_SUMMARY;
  private readonly members = new Map<string, MemberIndex>();
  private readonly timers = new TimerQueue();
  private readonly dirty = new Set<string>();
  private readonly deletedProfiles = new Set<string>();
  private readonly pendingChunks = new Map<string, HistoryChunk>();
  private readonly droppedChunks = new Set<string>();
  private readonly dirtyBuckets = new Set<string>();
  /** Segments whose members or value sum changed since `takeChangedSegments`. */
  private changedSegments = new Set<string>();
  private readonly withPendingMerges = new Set<string>();
  private readonly lastEvaluated = new Map<string, number>();
  private ledger = new Map<string, PublishedTransition[]>();
  private out: Transition[] = [];
  private contactsOut: ContactOutput[] = [];
  private contacts: ContactsProgress = NO_CONTACTS_PROGRESS;
  private evaluatedPairs = 0;
  private readonly options: WorkingSetOptions;

  constructor({
    catalogue,
    options = DEFAULT_WORKING_SET_OPTIONS,
  }: {
    catalogue: SegmentCatalogue;
    options?: WorkingSetOptions;
  }) {
    this.catalogue = catalogue;
    this.options = options;
    this.profiles = new ProfileTable(options.hotProfiles, (id) => this.dirty.has(id));
  }

  get appliedCatalogue(): CatalogueSummary {
    return this.applied;
  }

  get currentCatalogue(): SegmentCatalogue {
    return this.catalogue;
  }

  /** Whether account segments reading contacts wait for partitions to publish their contacts. */
  get waitingForContacts(): boolean {
    return this.contacts.pending !== undefined;
  }

  /** The earliest timer instant, for scheduling the next tick. */
  get nextTimerAt(): number | undefined {
    return this.timers.peek();
  }

  // ---- loading and checkpoints ---------------------------------------------------------------

  /**
   * Installs states read back from a checkpoint, taken with the catalogue summary it was
   * written with; `setCatalogue` then applies what changed since.
   */
  load(
    states: Iterable<ProfileState>,
    applied: CatalogueSummary,
    contacts: ContactsProgress = NO_CONTACTS_PROGRESS,
  ): void {
    this.applied = applied;
    this.contacts = contacts;
    for (const profile of states) {
      this.profiles.set(profile);
      this.profiles.trim();
      if (profile.pendingMerges.length > 0) this.withPendingMerges.add(profile.id);
      if (profile.nextAt !== undefined) this.timers.push(profile.nextAt, profile.id);
      for (const [segmentId, pair] of Object.entries(profile.pairs)) {
        if (!pair.member) continue;
        const index = this.indexToChange(segmentId);
        index.set(subjectIdOf(profile), true);
        if (pair.value !== undefined) index.countValue(pair.value, 1);
      }
    }
  }

  /** Everything that changed since the last checkpoint; the working set starts a new one. */
  takeCheckpoint(): Checkpoint {
    const checkpoint: Checkpoint = {
      chunks: [...this.pendingChunks.values()],
      states: [...this.dirty].flatMap((id) => {
        const profile = this.profiles.get(id);
        return profile === undefined ? [] : [profile];
      }),
      deletedProfiles: [...this.deletedProfiles],
      droppedChunks: [...this.droppedChunks],
      buckets: [...this.dirtyBuckets].map((key) => {
        const [segmentId, bucket] = splitKey(key);
        const index = this.members.get(segmentId);
        return {
          segmentId,
          bucket: Number(bucket),
          members: index === undefined ? [] : [...index.bucket(Number(bucket))].sort(),
        };
      }),
      applied: this.applied,
      contacts: this.contacts,
    };
    this.pendingChunks.clear();
    this.profiles.changedSince(this.dirty);
    this.dirty.clear();
    this.deletedProfiles.clear();
    this.droppedChunks.clear();
    this.dirtyBuckets.clear();
    this.profiles.trim();
    return checkpoint;
  }

  /** Digests of every non-empty member chunk, keyed `<segment>/<bucket>`. */
  digests(): Record<string, BucketDigest> {
    const out: Record<string, BucketDigest> = {};
    for (const [segmentId, index] of this.members) {
      for (let bucket = 0; bucket < MEMBER_BUCKETS; bucket += 1) {
        const digest = index.digest(bucket);
        if (digest.count > 0) out[`${segmentId}/${bucket}`] = digest;
      }
    }
    return out;
  }

  /** Marks member chunks whose stored digest differs from the members in memory to be rewritten. */
  reconcileBuckets(stored: Readonly<Record<string, BucketDigest>>): void {
    const mine = this.digests();
    for (const key of new Set([...Object.keys(stored), ...Object.keys(mine)])) {
      const a = stored[key];
      const b = mine[key];
      if (a?.count !== b?.count || a?.xor !== b?.xor) {
        const [segmentId, bucket] = key.split('/') as [string, string];
        this.dirtyBuckets.add(`${segmentId}\u0000${bucket}`);
      }
    }
  }

  /** The segments whose members or value sum changed since the last call (a status is due). */
  takeChangedSegments(): ReadonlySet<string> {
    const changed = this.changedSegments;
    this.changedSegments = new Set();
    return changed;
  }

  // ---- reads ---------------------------------------------------------------------------------

  membersOf(segmentId: string): MemberIndex | undefined {
    return this.members.get(segmentId);
  }

  memberCount(segmentId: string): number {
    return this.members.get(segmentId)?.size ?? 0;
  }

  lastEvaluatedAt(segmentId: string): number | undefined {
    return this.lastEvaluated.get(segmentId);
  }

  /** Ids of the profiles that take part in evaluation (absorbed profiles excluded). */
  profileIds(): string[] {
    const ids: string[] = [];
    for (const id of this.profiles.ids()) {
      if (!this.profiles.isGhost(id)) ids.push(id);
    }
    return ids;
  }

  /** How many (subject, segment) pairs have been evaluated: the work changes and timers cost. */
  get pairEvaluations(): number {
    return this.evaluatedPairs;
  }

  /** Profiles changed since the last checkpoint. */
  get dirtyCount(): number {
    return this.dirty.size;
  }

  /** A sealed chunk not written yet (its profile's state already lists it). */
  pendingChunk(id: string): HistoryChunk | undefined {
    return this.pendingChunks.get(id);
  }

  /** Merges waiting for the absorbed profile's history: survivor and absorbed ids. */
  pendingMerges(): { survivorId: string; absorbedId: string }[] {
    return [...this.withPendingMerges].flatMap((survivorId) =>
      (this.profiles.get(survivorId)?.pendingMerges ?? []).map((absorbedId) => ({
        survivorId,
        absorbedId,
      })),
    );
  }

  // ---- inputs --------------------------------------------------------------------------------

  /**
   * Applies one profile change at `offset` of the partition's profile-change topic. Records at or
   * below the offset a profile already includes, and change ids it applied recently, are skipped.
   * Throws RuleError for an event whose timestamp is not a valid instant (the caller dead-letters it).
   */
  applyProfileChange({
    change,
    offset,
    now,
  }: {
    change: ProfileChange;
    offset: number;
    now: number;
  }): Transition[] {
    const id = change.profileId;
    const kind = change.change;
    if (kind.case === 'accountTraitsChanged') return this.applyAccountTraits(change, offset, now);
    if (id === '' || kind.case === undefined) return [];
    let profile = this.profiles.get(id);
    if (profile?.mergedInto !== undefined) {
      if (kind.case === 'profileErased') this.forget(profile);
      return [];
    }
    if (
      profile !== undefined &&
      (offset <= profile.offsets.changes || profile.recentChanges.includes(change.id))
    ) {
      return [];
    }
    if (kind.case === 'profileErased') {
      if (profile === undefined) return [];
      this.catchUp(profile, now);
      this.exitAll(profile, now, TransitionCause.ERASE);
      this.leaveAccounts(profile, profile.accounts ?? [], now, TransitionCause.ERASE);
      this.forget(profile);
      return this.flush();
    }
    const created = profile === undefined;
    if (profile !== undefined) this.catchUp(profile, now);
    profile ??= this.create(id, change.id);
    this.record(profile, offset, change.id, now);
    const seeds = new Set<string>();
    switch (kind.case) {
      case 'eventRecorded': {
        const event: RuleEvent = {
          name: kind.value.name,
          timestamp: change.occurredAt === undefined ? now : timestampMs(change.occurredAt),
          properties: kind.value.properties ?? {},
        };
        this.foldEvents(profile, [event], now);
        this.appendHistory(profile, [{ n: event.name, t: event.timestamp, p: event.properties }]);
        for (const segmentId of this.catalogue.segmentsReadingEvent(event.name))
          seeds.add(segmentId);
        break;
      }
      case 'traitsChanged':
        this.foldTraits(profile, kind.value.changes, seeds);
        this.evaluate(
          profile,
          created ? this.newSubjectSeeds(profile, seeds, now) : seeds,
          now,
          TransitionCause.EVENT,
        );
        this.revalue(profile, kind.value.changes);
        return this.flush();
      case 'tagsChanged': {
        const tags = new Set(profile.state.tags);
        for (const tag of kind.value.added) tags.add(tag);
        for (const tag of kind.value.removed) tags.delete(tag);
        profile.state = { ...profile.state, tags: [...tags].sort() };
        for (const tag of [...kind.value.added, ...kind.value.removed]) {
          for (const segmentId of this.catalogue.segmentsReadingTag(tag)) seeds.add(segmentId);
        }
        break;
      }
      case 'profilesMerged': {
        const { survivorProfileId, absorbedProfileIds } = kind.value;
        if (survivorProfileId === id) {
          for (const absorbed of absorbedProfileIds) {
            if (absorbed !== id && !profile.pendingMerges.includes(absorbed))
              profile.pendingMerges.push(absorbed);
          }
          if (profile.pendingMerges.length > 0) this.withPendingMerges.add(id);
        } else if (absorbedProfileIds.includes(id)) {
          this.catchUp(profile, now);
          this.exitAll(profile, now, TransitionCause.MERGE);
          this.leaveAccounts(profile, profile.accounts ?? [], now, TransitionCause.MERGE);
          this.becomeGhost(profile, survivorProfileId, now);
          return this.flush();
        }
        break;
      }
      case 'accountJoined': {
        const accountId = change.accountId;
        if (accountId === '' || profile.accounts?.includes(accountId)) break;
        profile.accounts = [...(profile.accounts ?? []), accountId].sort();
        // every account is sent the contact's state afresh (the new one needs it)
        delete profile.contactSent;
        break;
      }
      case 'accountLeft': {
        const accountId = change.accountId;
        if (!profile.accounts?.includes(accountId)) break;
        this.leaveAccounts(profile, [accountId], now, TransitionCause.EVENT);
        break;
      }
      case 'identityAdded':
        break;
    }
    this.evaluate(
      profile,
      created ? this.newSubjectSeeds(profile, seeds, now) : seeds,
      now,
      TransitionCause.EVENT,
    );
    return this.flush();
  }

  /**
   * An account's traits changed (`account_traits_changed`, keyed by the account id, so it
   * arrives in the account's partition): the account's state is created on its first change,
   * and its account segments reading those traits are evaluated.
   */
  private applyAccountTraits(change: ProfileChange, offset: number, now: number): Transition[] {
    const kind = change.change;
    if (kind.case !== 'accountTraitsChanged' || change.accountId === '') return [];
    let account = this.profiles.get(accountKey(change.accountId));
    if (
      account !== undefined &&
      (offset <= account.offsets.changes || account.recentChanges.includes(change.id))
    ) {
      return [];
    }
    const created = account === undefined;
    if (account !== undefined) this.catchUp(account, now);
    account ??= this.createAccount(change.accountId, change.id);
    this.record(account, offset, change.id, now);
    const seeds = new Set<string>();
    this.foldTraits(account, kind.value.changes, seeds);
    this.evaluate(
      account,
      created ? this.newSubjectSeeds(account, seeds, now) : seeds,
      now,
      TransitionCause.EVENT,
    );
    this.revalue(account, kind.value.changes);
    return this.flush();
  }

  /** Applies trait changes to a subject's traits; adds the segments reading them to `seeds`. */
  private foldTraits(
    subject: ProfileState,
    changes: readonly TraitChange[],
    seeds: Set<string>,
  ): void {
    const traits: JsonObject = { ...subject.state.traits };
    for (const traitChange of changes) {
      if (traitChange.value === undefined) delete traits[traitChange.key];
      else traits[traitChange.key] = toJson(ValueSchema, traitChange.value);
      for (const segmentId of this.catalogue.segmentsReadingTrait(traitChange.key))
        seeds.add(segmentId);
    }
    subject.state = { ...subject.state, traits };
  }

  /**
   * Applies messages of the partition's contacts topic, in offset order: contact records fold
   * into their accounts' contacts (a record at or below the offset an account includes, or whose
   * version is not above the one held for its contact, is dropped), then each account touched is
   * evaluated once, at the latest instant its contacts changed (never before an instant the
   * account was already evaluated at, nor after `now`). Once every partition said it published
   * under the signature the account segments wait for, those are evaluated for every account.
   */
  applyContactMessages({
    messages,
    now,
  }: {
    messages: readonly { readonly offset: number; readonly message: ContactMessage }[];
    now: number;
  }): Transition[] {
    const touched = new Map<
      string,
      { at: number; cause: TransitionCause; created: boolean; account: ProfileState }
    >();
    let settle = false;
    for (const { offset, message } of messages) {
      if (message.kind === 'settled') {
        settle = this.noteSettled(message.signature, message.partition, message.partitionCount);
        continue;
      }
      const key = accountKey(message.accountId);
      let account = this.profiles.get(key);
      if (account !== undefined && offset <= (account.offsets.contacts ?? -1)) continue;
      const held = account?.contactVersions?.[message.profileId];
      if (
        account !== undefined &&
        held !== undefined &&
        compareVersions(message.version, held) <= 0
      ) {
        account.offsets.contacts = offset;
        this.dirty.add(key);
        continue;
      }
      const at = Math.min(now, Math.max(message.version.at, account?.evaluatedAt ?? -Infinity));
      const created = account === undefined;
      // the account's own timers due before its contact changed fire with the contacts it had
      if (account !== undefined) this.catchUp(account, at);
      account ??= this.createAccount(
        message.accountId,
        `contact:${message.profileId}:${message.version.changes}:${message.version.n}`,
      );
      account.offsets.contacts = offset;
      account.contactVersions = {
        ...account.contactVersions,
        [message.profileId]: message.version,
      };
      this.foldContact(account, message.profileId, message.state);
      const prior = touched.get(key);
      touched.set(key, {
        at: Math.max(prior?.at ?? at, at),
        cause: message.cause,
        created: (prior?.created ?? false) || created,
        account,
      });
    }
    for (const { at, cause, created, account } of touched.values())
      this.evaluate(
        account,
        created
          ? this.newSubjectSeeds(account, this.catalogue.readingContacts, at)
          : this.catalogue.readingContacts,
        at,
        cause,
      );
    if (settle) {
      this.contacts = { ...this.contacts, pending: undefined };
      const bound = this.catalogue.order.filter((id) => this.catalogue.contactBound.has(id));
      for (const key of [...this.profiles.ids()].filter(isAccountKey)) {
        this.profiles.trim();
        const account = this.profiles.get(key);
        if (account?.accountId === undefined) continue;
        this.catchUp(account, now);
        this.evaluate(account, bound, now, TransitionCause.RULE_CHANGE);
      }
    }
    return this.flush();
  }

  /** Contact records and `settled` messages decided since the last call, in order. */
  takeContactOutput(): ContactOutput[] {
    const out = this.contactsOut;
    this.contactsOut = [];
    return out;
  }

  /** Whether the account segments waiting for `signature` may now be evaluated. */
  private noteSettled(signature: string, partition: number, partitionCount: number): boolean {
    const from = new Set(this.contacts.settled[signature] ?? []);
    from.add(partition);
    const settled: Record<string, readonly number[]> = {};
    // signatures other than the newest few are never waited for again
    for (const [key, value] of Object.entries(this.contacts.settled).slice(-7))
      if (key !== signature) settled[key] = value;
    settled[signature] = [...from].sort((a, b) => a - b);
    this.contacts = { ...this.contacts, settled };
    return this.contacts.pending === signature && from.size >= partitionCount;
  }

  /** Sets (or, without a state, removes) one contact of an account, keeping contacts sorted by id. */
  private foldContact(
    account: ProfileState,
    profileId: string,
    contact: EvaluationState | undefined,
  ): void {
    const ids = [...(account.contactIds ?? [])];
    const states = [...(account.state.contacts ?? [])];
    let index = ids.indexOf(profileId);
    if (index >= 0) {
      ids.splice(index, 1);
      states.splice(index, 1);
    }
    if (contact !== undefined) {
      index = ids.findIndex((id) => id > profileId);
      if (index < 0) index = ids.length;
      ids.splice(index, 0, profileId);
      states.splice(index, 0, contact);
    }
    account.contactIds = ids;
    account.state = { ...account.state, contacts: states };
    this.dirty.add(account.id);
  }

  /** Applies one static-list change; a change at or below the pair's applied sequence is dropped. */
  applyListChange({
    change,
    offset,
    now,
  }: {
    change: ListMembershipChanged;
    offset: number;
    now: number;
  }): Transition[] {
    const id = change.memberId;
    if (id === '' || change.listId === '') return [];
    let profile = this.profiles.get(id);
    if (profile?.mergedInto !== undefined) return [];
    if (profile !== undefined && offset <= profile.offsets.lists) return [];
    const sequence = Number(change.sequence);
    const applied = profile?.listSequences[change.listId];
    if (profile !== undefined && applied !== undefined && sequence <= applied.seq) {
      profile.offsets.lists = offset;
      this.dirty.add(id);
      return [];
    }
    const created = profile === undefined;
    if (profile !== undefined) this.catchUp(profile, now);
    profile ??= this.create(id, `list:${change.listId}:${sequence}`);
    profile.offsets.lists = offset;
    profile.listSequences[change.listId] = { seq: sequence, member: change.member };
    const lists = profile.state.lists.filter((list) => list !== change.listId);
    if (change.member) lists.push(change.listId);
    profile.state = { ...profile.state, lists: lists.sort() };
    this.dirty.add(id);
    const reading = this.catalogue.segmentsReadingList(change.listId);
    const seeds = created ? this.newSubjectSeeds(profile, reading, now) : reading;
    this.evaluate(profile, seeds, now, TransitionCause.LIST);
    return this.flush();
  }

  /**
   * Fires every timer due at `now`, in instant order, each evaluated at its own instant (a
   * transition's `at` is when the value changed, however late this runs).
   */
  fireTimers(now: number, limit = Number.POSITIVE_INFINITY): Transition[] {
    for (let fired = 0; fired < limit; fired += 1) {
      const due = this.timers.popDue(now);
      if (due === undefined) break;
      this.profiles.trim();
      const profile = this.profiles.get(due.id);
      if (profile === undefined || profile.nextAt !== due.at) continue;
      if (profile.mergedInto !== undefined) {
        this.forget(profile);
        continue;
      }
      this.catchUp(profile, due.at);
    }
    return this.flush();
  }

  /** Whether a timer is due at `now` (fireTimers with a limit may leave some for later). */
  hasDueTimers(now: number): boolean {
    const next = this.timers.peek();
    return next !== undefined && next <= now;
  }

  /** Spec states a new catalogue needs rebuilt from history: new keys, or keys keeping more buckets. */
  specsNeedingBackfill(next: SegmentCatalogue): StateSpec[] {
    return [...next.specs.values()].filter((spec) => {
      const retained = this.applied.specs[spec.key];
      return retained === undefined || retainOf(spec) > retained;
    });
  }

  /**
   * A backfill of `specs` for this partition's profiles. Feed it the stored history chunks; the
   * chunks not stored yet and the tails in memory are added when it is applied.
   */
  startBackfill(specs: readonly StateSpec[]): SpecBackfill {
    return new SpecBackfill(specs, (chunk) => {
      this.profiles.trim();
      const profile = this.profiles.get(chunk.profileId);
      return (
        profile !== undefined &&
        profile.incarnation === chunk.incarnation &&
        profile.chunks.some((ref) => ref.n === chunk.n)
      );
    });
  }

  /**
   * Moves to a new catalogue at `now`: members of deleted segments exit (DELETED); specs no
   * segment needs are dropped and new ones installed from `backfill` (required when
   * `specsNeedingBackfill` is not empty); segments with a new version are evaluated for every
   * profile (RULE_CHANGE), their dependents after them.
   */
  setCatalogue({
    catalogue,
    now,
    backfill,
  }: {
    catalogue: SegmentCatalogue;
    now: number;
    backfill?: SpecBackfill;
  }): Transition[] {
    const previous = this.applied;
    const next = summaryOf(catalogue);
    const needed = this.specsNeedingBackfill(catalogue);
    if (needed.length > 0 && backfill === undefined)
      throw new Error(`a backfill of ${needed.length} spec(s) is needed`);
    this.catalogue = catalogue;
    const deleted = Object.keys(previous.versions).filter((id) => !(id in next.versions));
    const changed = Object.keys(next.versions).filter(
      (id) => previous.versions[id] !== next.versions[id],
    );
    const removedSpecs = Object.keys(previous.specs).filter((key) => !(key in next.specs));
    const removedLists = previous.lists.filter((list) => !catalogue.lists.has(list));
    const seeds = new Set<string>(changed.filter((id) => catalogue.get(id) !== undefined));
    for (const id of [...deleted, ...changed]) {
      for (const dependent of catalogue.dependentsOf(id)) seeds.add(dependent);
    }
    for (const list of removedLists) {
      for (const id of catalogue.segmentsReadingList(list)) seeds.add(id);
    }
    if (backfill !== undefined) {
      for (const chunk of this.pendingChunks.values()) backfill.addChunk(chunk);
    }
    const signature = catalogue.contactSignature;
    const resend = (previous.contacts ?? '') !== signature;
    if (resend) {
      // account segments reading contacts wait until every partition has published its contacts
      // under the new signature; each profile publishes its contact state afresh
      this.contacts = {
        ...this.contacts,
        pending: catalogue.contactBound.size > 0 ? signature : undefined,
      };
    }
    for (const profile of this.profiles.values()) {
      if (profile.mergedInto !== undefined) continue;
      if (resend) delete profile.contactSent;
      this.catchUp(profile, now);
      for (const id of deleted) this.dropPair(profile, id, previous.versions[id] as number, now);
      if (removedSpecs.length > 0) profile.state = withoutSpecs(profile.state, removedSpecs);
      if (backfill !== undefined) {
        backfill.addEvents(profile.id, profile.tail);
        profile.state = backfill.install(profile.id, profile.state, now);
        this.dirty.add(profile.id);
      }
      if (removedLists.some((list) => list in profile.listSequences)) {
        for (const list of removedLists) delete profile.listSequences[list];
        profile.state = {
          ...profile.state,
          lists: profile.state.lists.filter((list) => !removedLists.includes(list)),
        };
        this.dirty.add(profile.id);
      }
      this.evaluate(
        profile,
        this.relevantAmong(profile, seeds, now),
        now,
        TransitionCause.RULE_CHANGE,
      );
      // a new version may name another value trait: members are counted with its value
      for (const id of changed) this.countPairValue(profile, id);
    }
    for (const id of deleted) {
      const index = this.members.get(id);
      this.members.delete(id);
      this.lastEvaluated.delete(id);
      if (index !== undefined) {
        for (let bucket = 0; bucket < MEMBER_BUCKETS; bucket += 1)
          this.dirtyBuckets.add(`${id}\u0000${bucket}`);
      }
    }
    this.applied = next;
    if (resend && signature !== '') this.contactsOut.push({ kind: 'settled', signature });
    return this.flush();
  }

  /**
   * Re-evaluates one segment for some profiles (all by default) whatever its refresh mode;
   * dependents that are live follow. The caller refreshes only active segments.
   */
  refresh({
    segmentId,
    now,
    profileIds,
  }: {
    segmentId: string;
    now: number;
    profileIds?: readonly string[];
  }): RefreshOutcome {
    const seeds = [segmentId];
    const decidedPacked = this.decidedWhilePacked(segmentId, now);
    let entered = 0;
    let exited = 0;
    let leftPacked = 0;
    for (const id of profileIds ?? this.profileIds()) {
      this.profiles.trim();
      if (this.profiles.isGhost(id)) continue;
      const summary = this.profiles.packedSummary(id);
      if (summary !== undefined && decidedPacked?.decides(summary) === true) {
        if (decidedPacked.evaluates) this.lastEvaluated.set(segmentId, now);
        leftPacked += 1;
        continue;
      }
      const profile = this.profiles.get(id, { scan: true });
      if (profile === undefined || profile.mergedInto !== undefined) continue;
      this.catchUp(profile, now);
      const before = profile.pairs[segmentId]?.member ?? false;
      this.evaluate(profile, seeds, now, TransitionCause.REFRESH, { forced: segmentId });
      const after = profile.pairs[segmentId]?.member ?? false;
      if (before !== after) {
        if (after) entered += 1;
        else exited += 1;
      }
    }
    return { transitions: this.flush(), entered, exited, leftPacked };
  }

  /**
   * Tells, from a packed subject's summary alone, that refreshing `segmentId` at `now` decides
   * nothing for it, so it stays packed (reviving costs far more than evaluating): it is a plain
   * profile with no timer due, and the segment either evaluates no such profile (inactive, an
   * account segment) or reads nothing it holds and has no pair with it — then the rule's value
   * and next change for it are those for a subject with nothing, and when that is "not in, and
   * no change to come", its evaluation would decide nothing. Undefined when that is not so (the
   * rule holds for a subject with nothing, or may come to), or before NOTHING_READ_SINCE.
   * `evaluates`: whether the segment is evaluated for such profiles at all (its status then
   * says it was evaluated now, as a revived profile's evaluation would).
   */
  private decidedWhilePacked(
    segmentId: string,
    now: number,
  ): { decides: (summary: PackedSummary) => boolean; evaluates: boolean } | undefined {
    if (now < NOTHING_READ_SINCE) return undefined;
    const notDue = (summary: PackedSummary): boolean =>
      summary.plain && (summary.nextAt === undefined || summary.nextAt > now);
    const segment = this.catalogue.get(segmentId);
    if (segment === undefined || !segment.active || segment.audience !== 'profile')
      return { decides: notDue, evaluates: false };
    if (
      segment.compiled.root.evaluate(NOTHING, now) ||
      nextChange({ rule: segment.rule, compiled: segment.compiled, state: NOTHING, now }) !==
        undefined
    )
      return undefined;
    const reads = readKeysOfSegment(segment);
    const readsNothing = new Map<readonly string[], boolean>();
    const decides = (summary: PackedSummary): boolean => {
      if (!notDue(summary)) return false;
      let nothing = readsNothing.get(summary.readKeys);
      if (nothing === undefined) {
        nothing = !summary.readKeys.some((key) => reads.has(key));
        readsNothing.set(summary.readKeys, nothing);
      }
      return nothing;
    };
    return { decides, evaluates: true };
  }

  /**
   * Carries an absorbed profile's history over to its survivor (a pending merge): its events are
   * folded into the survivor's state and history, and the survivor re-evaluated (MERGE).
   */
  absorb({
    survivorId,
    absorbedId,
    events,
    now,
  }: {
    survivorId: string;
    absorbedId: string;
    events: readonly HistoryEvent[];
    now: number;
  }): Transition[] {
    const profile = this.profiles.get(survivorId);
    if (profile === undefined || !profile.pendingMerges.includes(absorbedId)) return [];
    profile.pendingMerges = profile.pendingMerges.filter((id) => id !== absorbedId);
    if (profile.pendingMerges.length === 0) this.withPendingMerges.delete(survivorId);
    this.dirty.add(survivorId);
    if (profile.mergedInto !== undefined) return [];
    this.catchUp(profile, now);
    this.foldEvents(
      profile,
      events.map((event) => ({ name: event.n, timestamp: event.t, properties: event.p })),
      now,
    );
    this.appendHistory(profile, events);
    const seeds = new Set(events.flatMap((event) => this.catalogue.segmentsReadingEvent(event.n)));
    this.evaluate(profile, seeds, now, TransitionCause.MERGE);
    return this.flush();
  }

  /** Drops sealed chunks older than the history retention (a periodic sweep). */
  sweepHistory(now: number): void {
    if (this.options.historyRetentionMs <= 0) return;
    for (const profile of this.profiles.values()) this.dropExpiredChunks(profile, now);
  }

  // ---- replay --------------------------------------------------------------------------------

  /**
   * Transitions already published since the last checkpoint. A replayed decision that reaches
   * one of them takes it over instead of publishing again (docs/membership.md).
   */
  installLedger(published: readonly PublishedTransition[]): void {
    this.ledger = new Map();
    for (const transition of [...published].sort((a, b) => a.sequence - b.sequence)) {
      const key = `${transition.profileId}\u0000${transition.segmentId}`;
      const list = this.ledger.get(key);
      if (list === undefined) this.ledger.set(key, [transition]);
      else list.push(transition);
    }
  }

  /**
   * After the replay has caught up: published transitions the replay did not reach are adopted,
   * and their pairs re-evaluated at `now`, so what downstream saw last is where they continue.
   */
  settleLedger(now: number): Transition[] {
    const ledger = this.ledger;
    this.ledger = new Map();
    for (const entries of ledger.values()) {
      const first = entries[0] as PublishedTransition;
      const segment = this.catalogue.get(first.segmentId);
      const profile = this.profiles.get(
        segment?.audience === 'account' ? accountKey(first.profileId) : first.profileId,
      );
      if (profile === undefined || profile.mergedInto !== undefined) continue;
      const mine = entries.filter((entry) => entry.incarnation === profile.incarnation);
      const last = mine[mine.length - 1];
      if (segment === undefined || last === undefined) continue;
      this.catchUp(profile, now);
      const pair = profile.pairs[first.segmentId] ?? { seq: 0, member: false };
      if (last.sequence <= pair.seq) continue;
      pair.seq = last.sequence;
      if (mine.some((entry) => entry.kind === 'entered')) pair.everEntered = true;
      this.setMembership(profile, first.segmentId, pair, last.kind === 'entered', last.at);
      profile.pairs[first.segmentId] = pair;
      this.evaluate(profile, [first.segmentId], now, TransitionCause.TIME);
    }
    return this.flush();
  }

  // ---- evaluation ----------------------------------------------------------------------------

  /**
   * Evaluates `seeds` (and, when membership changes, their dependents) for one profile at `now`,
   * in dependency order. Only live segments are evaluated, and `forced` whatever its mode. The
   * profile's timer moves to the earliest next change of the pairs evaluated, unless it is due
   * earlier; with `exactTimer` (all its timed pairs were evaluated) it is that earliest one.
   */
  private evaluate(
    profile: ProfileState,
    seeds: Iterable<string>,
    now: number,
    cause: TransitionCause,
    { forced, exactTimer = false }: { forced?: string; exactTimer?: boolean } = {},
  ): void {
    const queue = new RankQueue();
    const enqueue = (id: string): void => {
      const segment = this.catalogue.get(id);
      if (segment !== undefined) queue.add(segment);
    };
    for (const id of seeds) enqueue(id);
    const kind = profile.accountId === undefined ? 'profile' : 'account';
    const waiting = kind === 'account' && this.contacts.pending !== undefined;
    let next: number | undefined;
    for (let segment = queue.take(); segment !== undefined; segment = queue.take()) {
      if (!segment.active || !(segment.realtime || segment.id === forced)) continue;
      if (segment.audience !== kind) continue;
      if (waiting && this.catalogue.contactBound.has(segment.id)) continue;
      const outcome = this.evaluatePair(profile, segment, now, cause);
      if (outcome.next !== undefined && (next === undefined || outcome.next < next))
        next = outcome.next;
      if (outcome.changed) {
        // dependents rank after their dependency, so they are taken after it
        for (const dependent of this.catalogue.dependentsOf(segment.id)) enqueue(dependent);
      }
    }
    const current = profile.nextAt;
    this.setTimer(
      profile,
      exactTimer || current === undefined || (next !== undefined && next < current)
        ? next
        : current,
    );
    if (kind === 'account') {
      if (profile.evaluatedAt === undefined || profile.evaluatedAt < now) {
        profile.evaluatedAt = now;
        this.dirty.add(profile.id);
      }
    } else this.publishContact(profile, now, cause);
  }

  /**
   * The segments a subject seen for the first time is evaluated against: those its change
   * touched, those reading anything it now has, and those a subject with nothing may be in.
   * Every other segment reads nothing it has and holds for nobody with nothing, so evaluating
   * it would decide nothing (`CatalogueSegment.quietWithoutData`).
   */
  private newSubjectSeeds(
    subject: ProfileState,
    touched: Iterable<string>,
    now: number,
  ): Iterable<string> {
    const relevant = this.relevantTo(subject, now);
    if (relevant === undefined) return this.catalogue.order;
    for (const id of touched) relevant.add(id);
    return relevant;
  }

  /** The seeds that can decide anything for the subject at `now` (see `relevantTo`). */
  private relevantAmong(
    subject: ProfileState,
    seeds: ReadonlySet<string>,
    now: number,
  ): Iterable<string> {
    if (seeds.size === 0) return seeds;
    const relevant = this.relevantTo(subject, now);
    if (relevant === undefined) return seeds;
    const [small, large] = relevant.size < seeds.size ? [relevant, seeds] : [seeds, relevant];
    return [...small].filter((id) => large.has(id));
  }

  /**
   * The segments whose evaluation for the subject at `now` can decide a transition or a timer:
   * those reading anything it has, those it has a pair with (a member, a re-entry wait), and
   * those a subject with nothing may be in; undefined (all of them) before the instant that was
   * established from.
   */
  private relevantTo(subject: ProfileState, now: number): Set<string> | undefined {
    if (now < NOTHING_READ_SINCE) return undefined;
    const relevant = new Set<string>(this.catalogue.forAnyone);
    this.catalogue.segmentsReadingState(subject.state, (id) => relevant.add(id));
    for (const id of Object.keys(subject.pairs)) relevant.add(id);
    return relevant;
  }

  /**
   * Publishes the profile's contact state to its accounts when what `contacts.where` conditions
   * read of it changed (or was never sent since it joined an account or the contact needs changed).
   */
  private publishContact(profile: ProfileState, at: number, cause: TransitionCause): void {
    const needs = this.catalogue.contactNeeds;
    const accounts = profile.accounts ?? [];
    if (accounts.length === 0 || profile.mergedInto !== undefined) return;
    // without contact needs the record still makes a joined account known to its partition
    const state = needs === undefined ? emptyState() : contactStateOf(profile.state, needs);
    const text = JSON.stringify(state);
    if (text === profile.contactSent) return;
    profile.contactSent = text;
    const version = this.nextContactVersion(profile, at);
    for (const accountId of accounts)
      this.contactsOut.push({
        kind: 'contact',
        accountId,
        profileId: profile.id,
        version,
        cause,
        state,
      });
  }

  /** The profile leaves accounts: each is told to remove it from its contacts. */
  private leaveAccounts(
    profile: ProfileState,
    accountIds: readonly string[],
    at: number,
    cause: TransitionCause,
  ): void {
    if (accountIds.length === 0) return;
    const version = this.nextContactVersion(profile, at);
    for (const accountId of accountIds)
      this.contactsOut.push({ kind: 'contact', accountId, profileId: profile.id, version, cause });
    profile.accounts = (profile.accounts ?? []).filter((id) => !accountIds.includes(id));
    this.dirty.add(profile.id);
  }

  private nextContactVersion(profile: ProfileState, at: number) {
    profile.contactN = (profile.contactN ?? 0) + 1;
    this.dirty.add(profile.id);
    return {
      changes: profile.offsets.changes,
      lists: profile.offsets.lists,
      at,
      n: profile.contactN,
    };
  }

  /** Evaluates one pair: whether membership changed, and when it can next change with time alone. */
  private evaluatePair(
    profile: ProfileState,
    segment: CatalogueSegment,
    now: number,
    cause: TransitionCause,
  ): { changed: boolean; next: number | undefined } {
    this.evaluatedPairs += 1;
    this.lastEvaluated.set(segment.id, now);
    const qualifies = segment.compiled.root.evaluate(profile.state, now);
    const stored = profile.pairs[segment.id];
    const pair: PairState = stored ?? { seq: 0, member: false };
    let changed = false;
    let waitUntil: number | undefined;
    if (pair.member && !qualifies) {
      this.transition(profile, segment, pair, 'exited', now, cause);
      changed = true;
    } else if (!pair.member && qualifies) {
      const decision = decideEntry({ policy: segment.reentry, transitions: pastOf(pair), now });
      if (decision.kind === 'allowed') {
        this.transition(profile, segment, pair, 'entered', now, cause);
        changed = true;
      } else if (decision.kind === 'wait') {
        waitUntil = decision.from;
      }
    }
    if (stored === undefined && pair.seq > 0) profile.pairs[segment.id] = pair;
    return { changed, next: this.nextInstant(profile, segment, pair, now, waitUntil) };
  }

  private nextInstant(
    profile: ProfileState,
    segment: CatalogueSegment,
    pair: PairState,
    now: number,
    waitUntil: number | undefined,
  ): number | undefined {
    const blocked =
      !pair.member && pair.everEntered === true && segment.reentry?.mode === ReentryMode.ONCE;
    if (blocked || !segment.timeRelative) return waitUntil;
    const change = nextChange({
      rule: segment.rule,
      compiled: segment.compiled,
      state: profile.state,
      now,
    })?.at;
    if (change === undefined) return waitUntil;
    return waitUntil === undefined ? change : Math.min(change, waitUntil);
  }

  /** Records a transition (taking over a published one when a replay reaches it). */
  private transition(
    profile: ProfileState,
    segment: Pick<CatalogueSegment, 'id' | 'version'>,
    pair: PairState,
    kind: 'entered' | 'exited',
    now: number,
    cause: TransitionCause,
  ): void {
    const sequence = pair.seq + 1;
    const published = this.takePublished(profile, segment.id, sequence, kind);
    const at = published?.at ?? now;
    pair.seq = sequence;
    if (kind === 'entered') pair.everEntered = true;
    this.setMembership(profile, segment.id, pair, kind === 'entered', at);
    if (published !== undefined) return;
    this.out.push({
      id: transitionId(profile.id, profile.incarnation, segment.id, sequence),
      profileId: subjectIdOf(profile),
      incarnation: profile.incarnation,
      segmentId: segment.id,
      segmentVersion: segment.version,
      kind,
      at,
      cause,
      sequence,
    });
  }

  private takePublished(
    profile: ProfileState,
    segmentId: string,
    sequence: number,
    kind: 'entered' | 'exited',
  ): PublishedTransition | undefined {
    if (this.ledger.size === 0) return undefined;
    const key = `${subjectIdOf(profile)}\u0000${segmentId}`;
    const entries = this.ledger.get(key);
    if (entries === undefined) return undefined;
    while (
      entries.length > 0 &&
      ((entries[0] as PublishedTransition).incarnation !== profile.incarnation ||
        (entries[0] as PublishedTransition).sequence < sequence)
    ) {
      entries.shift();
    }
    const first = entries[0];
    const taken =
      first !== undefined && first.sequence === sequence && first.kind === kind
        ? entries.shift()
        : undefined;
    if (entries.length === 0) this.ledger.delete(key);
    return taken;
  }

  private setMembership(
    profile: ProfileState,
    segmentId: string,
    pair: PairState,
    member: boolean,
    at: number,
  ): void {
    pair.member = member;
    // the working set owns its profiles' states: their memberships change in place (copying
    // them per transition made new profiles entering many segments quadratic)
    const segments = profile.state.segments as Record<string, number>;
    if (member) {
      pair.since = at;
      segments[segmentId] = at;
    } else {
      delete pair.since;
      pair.lastExitAt = at;
      delete segments[segmentId];
    }
    const bucket = this.indexToChange(segmentId).set(subjectIdOf(profile), member);
    if (bucket !== undefined) this.dirtyBuckets.add(`${segmentId}\u0000${bucket}`);
    this.countPairValue(profile, segmentId, pair);
    this.dirty.add(profile.id);
  }

  /** Members of segments valuing the changed traits are counted with their values now. */
  private revalue(subject: ProfileState, changes: readonly TraitChange[]): void {
    const segments = new Set(
      changes.flatMap((change) => this.catalogue.segmentsValuingTrait(topKeyOf(change.key))),
    );
    for (const segmentId of segments) this.countPairValue(subject, segmentId);
  }

  /**
   * Counts a pair in its segment's value sum with the value it has now: a member with the
   * numeric value of the segment's value trait, anything else not at all. The value it was
   * counted with before (recorded on the pair) is taken out first, so the sum moves by the
   * exact difference, and counting a pair again changes nothing.
   */
  private countPairValue(
    subject: ProfileState,
    segmentId: string,
    // a pair entering for the first time is stored on the profile only after its transition
    pair: PairState | undefined = subject.pairs[segmentId],
  ): void {
    if (pair === undefined) return;
    const value = pair.member ? this.valueOf(subject, segmentId) : undefined;
    if (value === pair.value) return;
    const index = this.indexToChange(segmentId);
    if (pair.value !== undefined) index.countValue(pair.value, -1);
    if (value === undefined) delete pair.value;
    else {
      pair.value = value;
      index.countValue(value, 1);
    }
    this.dirty.add(subject.id);
  }

  /** The subject's value of a segment's value trait: a finite number, else absent. */
  private valueOf(subject: ProfileState, segmentId: string): number | undefined {
    const path = this.catalogue.get(segmentId)?.valueTrait ?? '';
    if (path === '') return undefined;
    const value = resolvePath(subject.state.traits, path);
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }

  /** Exits every segment the profile is a member of (erasure, merge), dependents included. */
  private exitAll(profile: ProfileState, now: number, cause: TransitionCause): void {
    for (const [segmentId, pair] of Object.entries(profile.pairs)) {
      if (!pair.member) continue;
      const segment = this.catalogue.get(segmentId);
      const version = segment?.version ?? this.applied.versions[segmentId] ?? 0;
      this.exit(profile, segmentId, version, pair, now, cause);
    }
  }

  /** A deleted segment: its member exits (DELETED) and its pair state is freed. */
  private dropPair(profile: ProfileState, segmentId: string, version: number, now: number): void {
    const pair = profile.pairs[segmentId];
    if (pair === undefined) return;
    if (pair.member) this.exit(profile, segmentId, version, pair, now, TransitionCause.DELETED);
    delete profile.pairs[segmentId];
    this.dirty.add(profile.id);
  }

  private exit(
    profile: ProfileState,
    segmentId: string,
    version: number,
    pair: PairState,
    now: number,
    cause: TransitionCause,
  ): void {
    this.transition(profile, { id: segmentId, version }, pair, 'exited', now, cause);
  }

  /**
   * Fires the profile's timers due at `now` or earlier, each at its own instant: before anything
   * else evaluates the profile, so its evaluations stay in time order however many timers wait.
   * The timer is the earliest instant any timed pair may change: all of them are evaluated then
   * (a pair with nothing due stays as it is), which sets the exact next instant.
   */
  private catchUp(profile: ProfileState, now: number): void {
    while (
      profile.mergedInto === undefined &&
      profile.nextAt !== undefined &&
      profile.nextAt <= now
    ) {
      const at = profile.nextAt;
      const relevant = this.relevantTo(profile, at);
      const timed =
        relevant === undefined
          ? this.catalogue.timed
          : [...relevant].filter((id) => this.catalogue.isTimed(id));
      this.evaluate(profile, timed, at, TransitionCause.TIME, { exactTimer: true });
    }
  }

  /** Sets the profile's timer (its earliest instant to re-evaluate its timed pairs at). */
  private setTimer(profile: ProfileState, next: number | undefined): void {
    if (next === profile.nextAt) return;
    if (next === undefined) delete profile.nextAt;
    else {
      profile.nextAt = next;
      this.timers.push(next, profile.id);
    }
    this.dirty.add(profile.id);
  }

  // ---- profiles ------------------------------------------------------------------------------

  private create(id: string, incarnation: string): ProfileState {
    return this.install(newProfileState(id, incarnation));
  }

  private createAccount(accountId: string, incarnation: string): ProfileState {
    return this.install(newAccountState(accountId, incarnation));
  }

  private install(subject: ProfileState): ProfileState {
    this.profiles.set(subject);
    this.deletedProfiles.delete(subject.id);
    this.dirty.add(subject.id);
    return subject;
  }

  private record(profile: ProfileState, offset: number, changeId: string, now: number): void {
    profile.offsets.changes = offset;
    if (
      profile.recentAt !== undefined &&
      now - profile.recentAt > this.options.recentChangesWindowMs
    )
      profile.recentChanges = [];
    profile.recentChanges.push(changeId);
    profile.recentAt = now;
    if (profile.recentChanges.length > this.options.recentChangesKept)
      profile.recentChanges.splice(
        0,
        profile.recentChanges.length - this.options.recentChangesKept,
      );
    this.dirty.add(profile.id);
  }

  private becomeGhost(profile: ProfileState, survivorId: string, now: number): void {
    profile.mergedInto = survivorId;
    profile.mergedAt = now;
    profile.pairs = {};
    profile.pendingMerges = [];
    this.withPendingMerges.delete(profile.id);
    this.setTimer(profile, now + this.options.ghostRetentionMs);
  }

  /** Removes a profile and its history for good (erasure, or an absorbed profile expiring). */
  private forget(profile: ProfileState): void {
    for (const [segmentId, pair] of Object.entries(profile.pairs)) {
      if (pair.member) {
        const index = this.indexToChange(segmentId);
        const bucket = index.set(subjectIdOf(profile), false);
        if (bucket !== undefined) this.dirtyBuckets.add(`${segmentId}\u0000${bucket}`);
        if (pair.value !== undefined) index.countValue(pair.value, -1);
      }
    }
    for (const ref of profile.chunks) {
      const id = chunkId(profile.id, profile.incarnation, ref.n);
      this.pendingChunks.delete(id);
      this.droppedChunks.add(id);
    }
    this.profiles.delete(profile.id);
    this.withPendingMerges.delete(profile.id);
    this.dirty.delete(profile.id);
    this.deletedProfiles.add(profile.id);
  }

  private foldEvents(profile: ProfileState, events: readonly RuleEvent[], now: number): void {
    let state = profile.state;
    const touched = new Map<string, StateSpec>();
    for (const event of events) {
      const specs = this.catalogue.specsForEvent(event.name);
      if (specs.length === 0) continue;
      state = applyEventToState({ state, specs, event });
      for (const spec of specs) touched.set(spec.key, spec);
    }
    if (touched.size > 0) state = pruneState({ state, specs: [...touched.values()], now });
    if (state !== profile.state) {
      profile.state = state;
      this.dirty.add(profile.id);
    }
  }

  private appendHistory(profile: ProfileState, events: readonly HistoryEvent[]): void {
    if (events.length === 0) return;
    profile.tail.push(...events);
    this.dirty.add(profile.id);
    const size = this.options.historyChunkSize;
    while (profile.tail.length >= size) {
      const events = profile.tail.splice(0, size);
      const n = profile.chunks.length === 0 ? 0 : (profile.chunks.at(-1)?.n as number) + 1;
      const times = events.map((event) => event.t);
      profile.chunks.push({ n, from: Math.min(...times), to: Math.max(...times) });
      const id = chunkId(profile.id, profile.incarnation, n);
      this.pendingChunks.set(id, {
        id,
        profileId: profile.id,
        incarnation: profile.incarnation,
        n,
        events,
      });
    }
  }

  private dropExpiredChunks(profile: ProfileState, now: number): void {
    const cutoff = now - this.options.historyRetentionMs;
    const expired = profile.chunks.filter((ref) => ref.to < cutoff);
    if (expired.length === 0) return;
    profile.chunks = profile.chunks.filter((ref) => ref.to >= cutoff);
    for (const ref of expired) {
      const id = chunkId(profile.id, profile.incarnation, ref.n);
      this.pendingChunks.delete(id);
      this.droppedChunks.add(id);
    }
    this.dirty.add(profile.id);
  }

  /** The members of a segment, about to change: the segment's status is due again. */
  private indexToChange(segmentId: string): MemberIndex {
    this.changedSegments.add(segmentId);
    let index = this.members.get(segmentId);
    if (index === undefined) {
      index = new MemberIndex();
      this.members.set(segmentId, index);
    }
    return index;
  }

  private flush(): Transition[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** A subject with nothing: what a segment decides for one holding nothing its rule reads. */
const NOTHING: EvaluationState = emptyState();

/** The compact transition history re-entry decisions need: ever entered, last exit. */
function pastOf(pair: PairState): PastTransition[] {
  const past: PastTransition[] = [];
  if (pair.everEntered) past.push({ kind: 'entered', at: pair.since ?? 0 });
  if (pair.lastExitAt !== undefined) past.push({ kind: 'exited', at: pair.lastExitAt });
  return past;
}

function withoutSpecs(state: EvaluationState, keys: readonly string[]): EvaluationState {
  const drop = <T>(entries: Readonly<Record<string, T>>): Record<string, T> => {
    const copy = { ...entries };
    for (const key of keys) delete copy[key];
    return copy;
  };
  return {
    ...state,
    aggregates: drop(state.aggregates),
    recency: drop(state.recency),
    sequences: drop(state.sequences),
  };
}

/** The top-level trait a path reads ("address.city" reads "address"). */
function topKeyOf(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
}

function splitKey(key: string): [string, string] {
  const at = key.lastIndexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
}
