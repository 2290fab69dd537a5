import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ProfileChange } from '@shoal/contracts';
import { CLOCK, type Clock, LOGGER, Metrics, classifyFailure } from '@shoal/platform';
import type { Logger } from 'pino';
import {
  ACCOUNT_REPOSITORY,
  type AccountRepositoryPort,
} from '../accounts/accounts.repository.port';
import type { AccountState } from '../accounts/account-state';
import { IDENTITY_REPOSITORY, type IdentityRepositoryPort } from './identities.repository.port';
import type { ChangeSource } from './profile-changes';
import {
  PROFILE_CHANGE_PUBLISHER,
  type ProfileChangePublisherPort,
} from './profile-changes.publisher.port';
import { type ProfileState, joinProfile } from './profile-state';
import { ProfileError } from './profiles.errors';
import { PROFILE_REPOSITORY, type ProfileRepositoryPort } from './profiles.repository.port';
import {
  type CheckpointSnapshot,
  type IngestRecord,
  type RecordOutcome,
  WorkingSet,
  type WorkingSetRules,
} from './working-set';

/** How the working set is kept and written. */
export interface IngestionSettings extends WorkingSetRules {
  /** A checkpoint starts at most this often (and at once after a slow one). */
  readonly checkpointIntervalMs: number;
  /** Batches wait while this many profiles have changes not yet written (backpressure). */
  readonly maxPendingProfiles: number;
  /** Profiles kept in memory besides those with pending changes. */
  readonly workingSetProfiles: number;
  /**
   * Longest a batch waits for room (backpressure) before it is handed back unapplied, to be
   * retried: well inside the consumer's session timeout, which a waiting batch cannot heartbeat.
   */
  readonly backpressureWaitMs: number;
  /** Most writes a checkpoint sends in one store command. */
  readonly writesPerCommand: number;
  /** How long a checkpoint retries one command the store failed transiently before giving up. */
  readonly storeRetryMs: number;
}

export const INGESTION_SETTINGS = Symbol('IngestionSettings');

/** A refused record: its position in the batch, and why. */
export interface Refusal {
  readonly index: number;
  readonly reason: string;
  readonly error: string;
}

/** The outcome of a batch: what was refused, and when the rest is durable. */
export interface IngestedBatch {
  readonly refused: readonly Refusal[];
  /** Resolves once a checkpoint holds the batch's effects. */
  readonly durable: Promise<void>;
}

/** Who changes a profile over gRPC, and the request it is. */
export interface Caller {
  readonly actor: string;
  /** Names the change's source ("api:<request>"); a fresh one when the caller gave none. */
  readonly requestId?: string;
}

class Deferred {
  resolve!: () => void;
  readonly promise = new Promise<void>((resolve) => (this.resolve = resolve));
}

/**
 * Profiles, identities and accounts in a working set, with the store out of the per-record
 * path. A batch loads what it needs that is not in memory (claiming new identifiers, reading
 * known ones by id), is applied in memory, and its changes are published; the batch is durable
 * once a checkpoint has written the profiles it changed. Checkpoints are coalesced: every
 * changed profile is written once per checkpoint, however many records touched it, and a
 * checkpoint starts only after every change it covers is on the topic, so after a crash the
 * records since the last committed offsets are applied again (a no-op for what the store holds,
 * by the join) and their changes published again with the same ids.
 */
@Injectable()
export class ProfileIngestionService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  readonly workingSet: WorkingSet;
  /** Changes applied but not yet acknowledged by Kafka, in the order they were made. */
  private outbox: ProfileChange[] = [];
  private flushing?: Promise<void>;
  /** Resolved by the checkpoint that covers everything applied until it starts. */
  private nextCheckpoint = new Deferred();
  private checkpointRunning?: Promise<void>;
  private lastCheckpointAt = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Profile ids and identity keys a batch is between loading and applying; never evicted. */
  private readonly pinned = new Map<string, number>();
  /** Records of batches let in and not yet applied: profiles they may change. */
  private admitted = 0;
  private readonly spaceFreed = new Set<() => void>();
  private readonly recordsTotal;
  private readonly checkpointSeconds;
  private readonly checkpointProfiles;
  private readonly checkpointRetries;
  private readonly workingSetSize;

  constructor(
    @Inject(INGESTION_SETTINGS) private readonly settings: IngestionSettings,
    @Inject(PROFILE_REPOSITORY) private readonly profiles: ProfileRepositoryPort,
    @Inject(IDENTITY_REPOSITORY) private readonly identities: IdentityRepositoryPort,
    @Inject(ACCOUNT_REPOSITORY) private readonly accounts: AccountRepositoryPort,
    @Inject(PROFILE_CHANGE_PUBLISHER) private readonly publisher: ProfileChangePublisherPort,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.workingSet = new WorkingSet(settings);
    this.recordsTotal = metrics.counter(
      'shoal_ingestion_records_total',
      'upstream records by outcome: applied, duplicate, refused',
      ['outcome'],
    );
    this.checkpointSeconds = metrics.histogram(
      'shoal_ingestion_checkpoint_duration_seconds',
      'time to write one checkpoint',
      [],
    );
    this.checkpointProfiles = metrics.counter(
      'shoal_ingestion_checkpoint_profiles_total',
      'profile documents written by checkpoints',
      [],
    );
    this.checkpointRetries = metrics.counter(
      'shoal_ingestion_checkpoint_retries_total',
      'checkpoint store commands retried after a transient failure',
      [],
    );
    this.workingSetSize = metrics.gauge(
      'shoal_ingestion_pending_profiles',
      'profiles with changes not yet written to the store',
      [],
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.checkpointIfDue(), this.settings.checkpointIntervalMs);
    this.timer.unref();
  }

  /** Lets batches still being committed become durable while the consumers stop. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.checkpoint().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.checkpointRunning?.catch(() => undefined);
  }

  /**
   * Applies records in order: loads what they need, applies them, publishes their changes.
   * Resolves once the changes are acknowledged; `durable` resolves once a checkpoint has them.
   */
  async ingest(records: readonly IngestRecord[]): Promise<IngestedBatch> {
    const needs = records.map((record) => this.workingSet.needs(record));
    await this.admit(records.length);
    const pins = this.pin(needs.flatMap((n) => [...n.claims.map(([key]) => key), ...n.lookups]));
    try {
      for (;;) {
        await this.load(needs);
        const missing = this.workingSet.missing(needs);
        if (
          missing.claims.size +
            missing.lookups.size +
            missing.profileIds.size +
            missing.accountIds.size >
          0
        )
          continue;
        // nothing awaits from here to the end of the loop: the batch applies as one step
        const now = this.clock.now().getTime();
        const refused: Refusal[] = [];
        records.forEach((record, index) => {
          const outcome = this.workingSet.apply(record, now);
          this.count(outcome);
          if (outcome.kind === 'applied') this.outbox.push(...outcome.changes);
          if (outcome.kind === 'refused')
            refused.push({ index, reason: outcome.error.reason, error: outcome.error.message });
        });
        const durable = this.nextCheckpoint.promise;
        await this.flush();
        this.workingSetSize.set({}, this.workingSet.pendingProfiles);
        return { refused, durable };
      }
    } finally {
      this.admitted -= records.length;
      this.unpin(pins);
    }
  }

  /** Sets or removes tags of a profile, published and written before it answers. */
  async changeTags(
    profileId: string,
    tags: readonly string[],
    on: boolean,
    caller: Caller,
  ): Promise<ProfileState> {
    const now = this.clock.now().getTime();
    const requestId = caller.requestId ?? randomUUID();
    const source = {
      sourceId: `api:${requestId}`,
      occurredAt: now,
      recordedAt: now,
      actor: caller.actor,
    };
    const pins = this.pin([profileId]);
    try {
      const profile = await this.profile(profileId);
      if (!profile) throw ProfileError.notFound(`with id ${profileId}`);
      const changes = this.workingSet.changeTags(
        profile,
        tags,
        on,
        { t: now, m: source.sourceId },
        source,
      );
      this.outbox.push(...changes);
      await this.flush();
      const dirty = { ...emptyParts(), tags: new Set(tags) };
      await this.profiles.write([{ state: profile, dirty }]);
      return profile;
    } finally {
      this.unpin(pins);
    }
  }

  /**
   * Erases a profile: it leaves memory, its erasure is published (keyed by it and by each
   * profile it absorbed), then its identifiers and documents are deleted.
   */
  async erase(profileId: string, caller: Caller): Promise<ProfileState> {
    const now = this.clock.now().getTime();
    const requestId = caller.requestId ?? randomUUID();
    const source: ChangeSource & { actor: string } = {
      sourceId: `api:${requestId}`,
      occurredAt: now,
      recordedAt: now,
      actor: caller.actor,
    };
    const profile = await this.profile(profileId);
    if (!profile) throw ProfileError.notFound(`with id ${profileId}`);
    this.outbox.push(...this.workingSet.erase(profile, source));
    await this.flush();
    // a checkpoint writing the profile now would bring its document back
    await this.checkpointRunning?.catch(() => undefined);
    // its identifiers point at it, or still at a profile it absorbed (until a checkpoint moves them)
    const owned = await this.identities.find([...profile.identities.keys()]);
    const its = (owner: string) => owner === profile.id || profile.absorbed.has(owner);
    await this.identities.delete([...owned].filter(([, owner]) => its(owner)).map(([key]) => key));
    await this.profiles.delete([profile.id, ...profile.absorbed]);
    return profile;
  }

  /**
   * The live profile an id names (the survivor when it was merged), from memory or the store;
   * undefined when there is none.
   */
  async profile(profileId: string): Promise<ProfileState | undefined> {
    const live = this.workingSet.live(profileId);
    if (live) return live;
    const stored = (await this.profiles.load([profileId])).get(profileId);
    if (stored) {
      this.workingSet.remember({ profiles: new Map([[profileId, stored]]) });
      return this.workingSet.live(profileId) ?? stored;
    }
    const owner = (await this.identities.find([profileId])).get(profileId);
    if (!owner || owner === profileId) return undefined;
    const survivor = this.workingSet.live(owner) ?? (await this.profiles.load([owner])).get(owner);
    if (survivor) this.workingSet.remember({ profiles: new Map([[owner, survivor]]) });
    return survivor && (this.workingSet.live(owner) ?? survivor);
  }

  /** The profile an identifier key belongs to, from memory or the store. */
  async profileOfIdentity(key: string): Promise<ProfileState | undefined> {
    const known = this.workingSet.identities.get(key);
    if (known) return this.profile(known);
    const owner = (await this.identities.find([key])).get(key);
    return owner ? this.profile(owner) : undefined;
  }

  /** An account from memory or the store. */
  async account(accountId: string): Promise<AccountState | undefined> {
    return (
      this.workingSet.accounts.get(accountId) ??
      (await this.accounts.load([accountId])).get(accountId)
    );
  }

  /** Writes what changed now (and waits for a checkpoint already running). */
  async checkpoint(): Promise<void> {
    while (this.checkpointRunning) await this.checkpointRunning.catch(() => undefined);
    const run = this.writeCheckpoint();
    this.checkpointRunning = run;
    try {
      await run;
    } finally {
      this.checkpointRunning = undefined;
    }
  }

  private async checkpointIfDue(): Promise<void> {
    if (this.stopped || this.checkpointRunning) return;
    if (this.clock.now().getTime() - this.lastCheckpointAt < this.settings.checkpointIntervalMs)
      return;
    await this.checkpoint().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'checkpoint failed; retrying'),
    );
  }

  private async writeCheckpoint(): Promise<void> {
    // every change the snapshot holds must be on the topic before the store has it
    do await this.flush();
    while (this.outbox.length > 0);
    const now = this.clock.now().getTime();
    this.lastCheckpointAt = now;
    const snapshot = this.workingSet.takeSnapshot(now);
    const covered = this.nextCheckpoint;
    this.nextCheckpoint = new Deferred();
    const stopTimer = this.checkpointSeconds.startTimer({});
    try {
      await this.write(snapshot);
    } catch (error) {
      this.workingSet.restore(snapshot);
      // the batches it covered become durable with the next checkpoint that succeeds
      const next = this.nextCheckpoint;
      void next.promise.then(() => covered.resolve());
      throw error;
    } finally {
      stopTimer();
    }
    this.checkpointProfiles.inc({}, snapshot.profiles.length);
    covered.resolve();
    this.workingSet.evict(this.settings.workingSetProfiles, new Set(this.pinned.keys()));
    this.workingSetSize.set({}, this.workingSet.pendingProfiles);
    for (const wake of this.spaceFreed) wake();
  }

  /**
   * Writes a snapshot: profiles (joined into their documents), accounts, identifiers moved by
   * merges, then the documents of absorbed profiles are deleted — in that order, so a crash in
   * between leaves a state the replay completes.
   */
  private async write(snapshot: CheckpointSnapshot): Promise<void> {
    const created = new Set<string>();
    for (const part of this.commands(snapshot.profiles))
      for (const id of await this.persist(() => this.profiles.write(part))) created.add(id);
    for (const part of this.commands(snapshot.accounts))
      await this.persist(() => this.accounts.write(part));
    for (const part of this.commands([...snapshot.identities]))
      await this.persist(() => this.identities.assign(new Map(part)));
    for (const part of this.commands(snapshot.deletedProfiles))
      await this.persist(() => this.profiles.delete(part));
    const gone = snapshot.profiles.filter(
      ({ state, dirty }) => dirty.stored && created.has(state.id),
    );
    const concurrent = snapshot.profiles.filter(
      ({ state, dirty }) => !dirty.stored && !created.has(state.id),
    );
    if (gone.length > 0) await this.redirect(gone.map(({ state }) => state));
    if (concurrent.length > 0) await this.refresh(concurrent.map(({ state }) => state));
  }

  /**
   * Profiles whose documents were gone when this instance wrote them, while it held them:
   * merged into another profile by another instance (their identifiers point there), or erased
   * (their identifiers are gone too). What this instance added goes to the survivor, told as a
   * merge of its own and written now; an erased profile is forgotten here, and its erasure
   * published again after what this instance published for it meanwhile.
   */
  private async redirect(profiles: readonly ProfileState[]): Promise<void> {
    const now = this.clock.now().getTime();
    const survivors: ProfileState[] = [];
    const junk: string[] = [];
    for (const profile of profiles) {
      const owners = await this.identities.find([...profile.identities.keys()]);
      if ([...owners.values()].includes(profile.id)) continue;
      junk.push(profile.id);
      const survivorId = [...owners.values()][0];
      const source = {
        sourceId: `redirect:${profile.id}:${now}`,
        occurredAt: now,
        recordedAt: now,
      };
      if (!survivorId) {
        this.logger.warn({ profileId: profile.id }, 'profile erased elsewhere; forgetting it here');
        this.outbox.push(...this.workingSet.erase(profile, { ...source, actor: '' }));
        continue;
      }
      this.logger.warn(
        { profileId: profile.id, survivorId },
        'profile merged elsewhere; merging what this instance added into the survivor',
      );
      const survivor = await this.profile(survivorId);
      if (!survivor) continue;
      this.outbox.push(...this.workingSet.absorb(survivor, profile, source));
      survivors.push(survivor);
    }
    await this.flush();
    await this.profiles.write(
      survivors.map((state) => ({ state, dirty: { ...emptyParts(), all: true } })),
    );
    await this.profiles.delete(junk);
  }

  /** Profiles another instance created at the same time: what it wrote joins the copy here. */
  private async refresh(profiles: readonly ProfileState[]): Promise<void> {
    const stored = await this.profiles.load(profiles.map((p) => p.id));
    for (const profile of profiles) {
      const other = stored.get(profile.id);
      if (other) joinProfile(profile, other);
    }
  }

  /**
   * A checkpoint's writes in commands of at most `writesPerCommand`, so that no command holds
   * the store for long and a failure costs one command again, not the whole checkpoint.
   */
  private commands<T>(writes: readonly T[]): T[][] {
    const parts: T[][] = [];
    for (let at = 0; at < writes.length; at += this.settings.writesPerCommand)
      parts.push(writes.slice(at, at + this.settings.writesPerCommand));
    return parts;
  }

  /**
   * Runs one store command of a checkpoint, retrying it while the store fails transiently (a
   * timeout, a lost connection) for up to `storeRetryMs`: every write is a join or an insert
   * that tells existing documents apart, so repeating one is harmless, and the rest of the
   * checkpoint is not written again. Other failures, and the last transient one, fail it.
   */
  private async persist<R>(command: () => Promise<R>): Promise<R> {
    const started = performance.now();
    for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        return await command();
      } catch (error) {
        const elapsed = performance.now() - started;
        if (
          this.stopped ||
          classifyFailure(error) !== 'transient' ||
          elapsed + delay > this.settings.storeRetryMs
        )
          throw error;
        this.checkpointRetries.inc({});
        this.logger.warn({ err: error, retryInMs: delay }, 'checkpoint write failed; retrying it');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Loads what records need and memory lacks: claims new identifiers, reads the rest by id. */
  private async load(needs: Parameters<WorkingSet['missing']>[0]): Promise<void> {
    const missing = this.workingSet.missing(needs);
    if (missing.claims.size > 0 || missing.lookups.size > 0) {
      const [taken, found] = await Promise.all([
        this.identities.claim(missing.claims),
        this.identities.find([...missing.lookups]),
      ]);
      const identities = new Map<string, string | null>();
      const absent = new Map<string, null>();
      for (const [key, provisional] of missing.claims) {
        const owner = taken.get(key);
        identities.set(key, owner ?? provisional);
        // a profile is named after an identifier: if no one had that identifier, it has no document
        if (!owner && missing.claims.has(provisional) && !taken.has(provisional))
          absent.set(provisional, null);
      }
      for (const key of missing.lookups) identities.set(key, found.get(key) ?? null);
      this.workingSet.remember({ identities, profiles: absent });
    }
    const rest = this.workingSet.missing(needs);
    const [profiles, accounts] = await Promise.all([
      rest.profileIds.size > 0 ? this.profiles.load([...rest.profileIds]) : new Map(),
      rest.accountIds.size > 0 ? this.accounts.load([...rest.accountIds]) : new Map(),
    ]);
    this.workingSet.remember({
      profiles: new Map([...rest.profileIds].map((id) => [id, profiles.get(id) ?? null])),
      accounts: new Map([...rest.accountIds].map((id) => [id, accounts.get(id) ?? null])),
    });
  }

  /** Publishes the outbox in order, one send at a time; resolves once what was in it is out. */
  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.outbox.length === 0) return;
    const sending = this.outbox;
    this.outbox = [];
    this.flushing = this.publisher.publish(sending).then(
      () => undefined,
      (error: unknown) => {
        // unsent changes go first next time, so nothing is lost or reordered
        this.outbox = [...sending, ...this.outbox];
        throw error;
      },
    );
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Lets a batch of `records` in once profiles with unwritten changes are under the limit,
   * asking for a checkpoint meanwhile; past `backpressureWaitMs` the batch is refused as
   * transient, so the consumer retries it later (heartbeating meanwhile) instead of waiting
   * here until its group session expires.
   */
  private async admit(records: number): Promise<void> {
    const started = performance.now();
    while (this.full() && !this.stopped) {
      const waited = Math.round(performance.now() - started);
      if (waited >= this.settings.backpressureWaitMs)
        throw ProfileError.checkpointsBehind(
          this.workingSet.pendingProfiles + this.admitted,
          waited,
        );
      void this.checkpointIfDue();
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.spaceFreed.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(
          wake,
          Math.min(this.settings.checkpointIntervalMs, this.settings.backpressureWaitMs - waited),
        );
        this.spaceFreed.add(wake);
      });
    }
    // counted at once, so batches let in together cannot all pass the limit
    this.admitted += records;
  }

  /**
   * Whether profiles with unwritten changes, counting a profile for each record of the batches
   * still loading, reach the limit; a batch alone is always let in, however large.
   */
  private full(): boolean {
    const pending = this.workingSet.pendingProfiles;
    return (
      pending >= this.settings.maxPendingProfiles ||
      (this.admitted > 0 && pending + this.admitted >= this.settings.maxPendingProfiles)
    );
  }

  private count(outcome: RecordOutcome): void {
    this.recordsTotal.inc({ outcome: outcome.kind });
  }

  private pin(keys: readonly string[]): string[] {
    for (const key of keys) this.pinned.set(key, (this.pinned.get(key) ?? 0) + 1);
    return [...keys];
  }

  private unpin(keys: readonly string[]): void {
    for (const key of keys) {
      const n = (this.pinned.get(key) ?? 1) - 1;
      if (n <= 0) this.pinned.delete(key);
      else this.pinned.set(key, n);
    }
  }
}

function emptyParts() {
  return {
    all: false,
    traits: new Set<string>(),
    tags: new Set<string>(),
    accounts: new Set<string>(),
    identities: new Set<string>(),
    absorbed: new Set<string>(),
    seen: false,
    stored: true,
  };
}
