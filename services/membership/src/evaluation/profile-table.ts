import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ProfileState } from './profile-state';

// Field names and shapes every packed state repeats: a preset dictionary lets deflate refer to
// them from the first byte of a small state (never change it: packed states are read with it).
const DICTIONARY = Buffer.from(
  '{"seq":1,"member":false,"since":"everEntered":true,"lastExitAt":"value":' +
    '"state":{"traits":{},"tags":[],"lists":[],"segments":{},"aggregates":{},"recency":{},' +
    '"sequences":{}},"listSequences":{},"pairs":{},"offsets":{"changes":-1,"lists":-1},' +
    '"recentChanges":[],"recentAt":"tail":[],"chunks":[],"pendingMerges":[],"nextAt":' +
    '"incarnation":"id":"user:',
);

/** A state as one compressed string (its JSON, deflated; one byte per character). */
export function packProfile(profile: ProfileState): string {
  return deflateRawSync(JSON.stringify(profile), { level: 1, dictionary: DICTIONARY }).toString(
    'latin1',
  );
}

export function unpackProfile(packed: string): ProfileState {
  const json = inflateRawSync(Buffer.from(packed, 'latin1'), { dictionary: DICTIONARY });
  return JSON.parse(json.toString('utf8')) as ProfileState;
}

/**
 * The subjects of one partition. The `hotLimit` most recently used are live objects; the others
 * are packed (a state is ~6 KiB of objects with 100 segments, ~0.5 KiB packed: docs/membership.md,
 * "Partitions and the working set") and revived when used. A live state that was not changed
 * since it was revived is packed again from the string it was revived from.
 *
 * Packing happens only in `trim`, which the working set calls where no state object is held
 * across it (between subjects of a loop, and at checkpoints): a state object is valid until then.
 */
export class ProfileTable {
  /** Every subject, live or packed, in the order it was first installed. */
  private readonly entries = new Map<string, ProfileState | string>();
  /** Live subjects, least recently used first. */
  private readonly live = new Set<string>();
  /** The packed form a live subject was revived from, while it is unchanged. */
  private readonly originals = new Map<string, string>();
  /** Packed absorbed profiles (so scans skip them without reviving them). */
  private readonly packedGhosts = new Set<string>();

  constructor(
    private readonly hotLimit: number,
    /** Whether a subject changed since the last checkpoint (its original is stale). */
    private readonly changed: (id: string) => boolean,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** How many subjects are live objects now. */
  get liveCount(): number {
    return this.live.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The subject's state, live (revived if it was packed) and marked as just used. */
  get(id: string): ProfileState | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.live.delete(id);
    this.live.add(id);
    if (typeof entry !== 'string') return entry;
    const profile = unpackProfile(entry);
    this.entries.set(id, profile);
    this.originals.set(id, entry);
    this.packedGhosts.delete(id);
    return profile;
  }

  /** A copy of the subject's state to read only (a packed one stays packed). */
  peek(id: string): ProfileState | undefined {
    const entry = this.entries.get(id);
    return typeof entry === 'string' ? unpackProfile(entry) : entry;
  }

  /** Whether the subject is an absorbed profile, without reviving it. */
  isGhost(id: string): boolean {
    const entry = this.entries.get(id);
    return typeof entry === 'string' ? this.packedGhosts.has(id) : entry?.mergedInto !== undefined;
  }

  set(profile: ProfileState): void {
    this.entries.set(profile.id, profile);
    this.originals.delete(profile.id);
    this.packedGhosts.delete(profile.id);
    this.live.delete(profile.id);
    this.live.add(profile.id);
  }

  delete(id: string): void {
    this.entries.delete(id);
    this.live.delete(id);
    this.originals.delete(id);
    this.packedGhosts.delete(id);
  }

  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /**
   * Every subject's live state, in installation order, trimming as it goes: the loop's body must
   * not keep a state beyond its own iteration.
   */
  *values(): IterableIterator<ProfileState> {
    for (const id of this.entries.keys()) {
      const profile = this.get(id);
      if (profile !== undefined) yield profile;
      this.trim();
    }
  }

  /** Subjects changed since the last checkpoint: their originals are stale. */
  changedSince(ids: Iterable<string>): void {
    for (const id of ids) this.originals.delete(id);
  }

  /** Packs the least recently used live subjects beyond the hot limit. */
  trim(): void {
    for (const id of this.live) {
      if (this.live.size <= this.hotLimit) break;
      this.live.delete(id);
      const profile = this.entries.get(id);
      if (profile === undefined || typeof profile === 'string') continue;
      const original = this.changed(id) ? undefined : this.originals.get(id);
      this.originals.delete(id);
      this.entries.set(id, original ?? packProfile(profile));
      if (profile.mergedInto !== undefined) this.packedGhosts.add(id);
    }
  }
}
