import { MongoNetworkTimeoutError } from 'mongodb';
import type { ProfileChange } from '@shoal/contracts';
import type { AccountState } from '../../src/accounts/account-state';
import type {
  AccountRepositoryPort,
  AccountWrite,
} from '../../src/accounts/accounts.repository.port';
import type { IdentityRepositoryPort } from '../../src/profiles/identities.repository.port';
import type { ProfileChangePublisherPort } from '../../src/profiles/profile-changes.publisher.port';
import {
  type ProfileState,
  copyProfile,
  joinProfile,
  newProfile,
  wins,
} from '../../src/profiles/profile-state';
import type {
  ProfileRepositoryPort,
  ProfileWrite,
} from '../../src/profiles/profiles.repository.port';

/**
 * Profiles in memory with the store's semantics: a write joins only the parts marked changed
 * (so a part a caller forgets to mark is lost here as it would be in MongoDB), replaces the
 * recent message ids, and reports which documents it created.
 */
export class InMemoryProfileRepository implements ProfileRepositoryPort {
  readonly documents = new Map<string, ProfileState>();
  /** Every id written, in order, one entry per write. */
  readonly written: string[] = [];
  readonly loaded: string[] = [];
  failWrites = false;
  /** The next writes to fail as a store timing out does (a transient failure), writing nothing. */
  timeouts = 0;
  /** Ids per write command, in order. */
  readonly commands: string[][] = [];
  /** Every id deleted, in order. */
  readonly deleted: string[] = [];

  async load(ids: readonly string[]): Promise<Map<string, ProfileState>> {
    this.loaded.push(...ids);
    const found = new Map<string, ProfileState>();
    for (const id of ids) {
      const doc = this.documents.get(id);
      if (doc) found.set(id, copyProfile(doc));
    }
    return found;
  }

  async write(writes: readonly ProfileWrite[]): Promise<Set<string>> {
    if (this.failWrites) throw new Error('store unavailable');
    if (this.timeouts > 0) {
      this.timeouts--;
      throw new MongoNetworkTimeoutError('connection timed out');
    }
    this.commands.push(writes.map(({ state }) => state.id));
    const created = new Set<string>();
    for (const { state, dirty } of writes) {
      this.written.push(state.id);
      const part = newProfile(state.id, state.incarnation, state.createdAt);
      part.firstSeenAt = state.firstSeenAt;
      part.lastSeenAt = state.lastSeenAt;
      const pick = <V>(from: Map<string, V>, to: Map<string, V>, keys: Iterable<string>) => {
        for (const key of keys) {
          const value = from.get(key);
          if (value !== undefined) to.set(key, value);
        }
      };
      pick(state.traits, part.traits, dirty.all ? state.traits.keys() : dirty.traits);
      pick(state.tags, part.tags, dirty.all ? state.tags.keys() : dirty.tags);
      pick(state.accounts, part.accounts, dirty.all ? state.accounts.keys() : dirty.accounts);
      pick(
        state.identities,
        part.identities,
        dirty.all ? state.identities.keys() : dirty.identities,
      );
      for (const id of dirty.all ? state.absorbed : dirty.absorbed) part.absorbed.add(id);
      let doc = this.documents.get(state.id);
      if (!doc) {
        created.add(state.id);
        doc = newProfile(state.id, state.incarnation, state.createdAt);
        doc.firstSeenAt = state.firstSeenAt;
        doc.lastSeenAt = state.lastSeenAt;
        this.documents.set(state.id, doc);
      }
      joinProfile(doc, part);
      if (dirty.all || dirty.seen) {
        doc.seen.clear();
        for (const [hash, seen] of state.seen) doc.seen.set(hash, seen);
      }
    }
    return created;
  }

  async delete(ids: readonly string[]): Promise<void> {
    this.deleted.push(...ids);
    for (const id of ids) this.documents.delete(id);
  }

  async *streamAfter(afterId: string, limit: number): AsyncIterable<ProfileState> {
    const ids = [...this.documents.keys()].filter((id) => id > afterId).sort();
    for (const id of limit > 0 ? ids.slice(0, limit) : ids)
      yield copyProfile(this.documents.get(id) as ProfileState);
  }
}

export class InMemoryIdentityRepository implements IdentityRepositoryPort {
  readonly owners = new Map<string, string>();
  readonly claimed: string[] = [];
  readonly found: string[] = [];

  async claim(claims: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const taken = new Map<string, string>();
    for (const [key, profileId] of claims) {
      this.claimed.push(key);
      const owner = this.owners.get(key);
      if (owner) taken.set(key, owner);
      else this.owners.set(key, profileId);
    }
    return taken;
  }

  async find(keys: readonly string[]): Promise<Map<string, string>> {
    this.found.push(...keys);
    const found = new Map<string, string>();
    for (const key of keys) {
      const owner = this.owners.get(key);
      if (owner) found.set(key, owner);
    }
    return found;
  }

  async assign(owners: ReadonlyMap<string, string>): Promise<void> {
    for (const [key, id] of owners) this.owners.set(key, id);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.owners.delete(key);
  }
}

export class InMemoryAccountRepository implements AccountRepositoryPort {
  readonly documents = new Map<string, AccountState>();

  async load(ids: readonly string[]): Promise<Map<string, AccountState>> {
    const found = new Map<string, AccountState>();
    for (const id of ids) {
      const doc = this.documents.get(id);
      if (doc) found.set(id, { ...doc, traits: new Map(doc.traits) });
    }
    return found;
  }

  async write(writes: readonly AccountWrite[]): Promise<void> {
    for (const { state, traits, all } of writes) {
      let doc = this.documents.get(state.id);
      if (!doc) {
        doc = {
          id: state.id,
          traits: new Map(),
          firstSeenAt: state.firstSeenAt,
          lastSeenAt: state.lastSeenAt,
        };
        this.documents.set(state.id, doc);
      }
      doc.firstSeenAt = Math.min(doc.firstSeenAt, state.firstSeenAt);
      doc.lastSeenAt = Math.max(doc.lastSeenAt, state.lastSeenAt);
      for (const key of all ? state.traits.keys() : traits) {
        const entry = state.traits.get(key);
        if (entry && wins(entry, doc.traits.get(key))) doc.traits.set(key, entry);
      }
    }
  }
}

/** Changes as they would reach the topic: kept in order; a send can be made to fail. */
export class RecordingPublisher implements ProfileChangePublisherPort {
  readonly published: ProfileChange[] = [];
  failNext = 0;

  async publish(changes: readonly ProfileChange[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('broker unavailable');
    }
    this.published.push(...changes);
  }
}
