import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ProfileState } from './profile-state';
import { readKeysOfState } from './read-keys';

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
 * What a refresh may know of a packed subject without reviving it: whether it is a plain profile
 * (neither an account, nor in accounts, nor absorbed), when its timer is due, and the keys of
 * what it holds that rules read (`readKeysOfState`). Many subjects hold the same things, so key
 * lists are shared: a refresh decides once per list.
 */
export interface PackedSummary {
  readonly plain: boolean;
  readonly nextAt: number | undefined;
  readonly readKeys: readonly string[];
}

/** A packed subject: its state as `packProfile` makes it, and what a refresh may know of it. */
interface PackedProfile {
  readonly packed: string;
  readonly summary: PackedSummary;
  readonly ghost: boolean;
}

/** Distinct key lists shared before the table starts a new one (old lists stay with their users). */
const SHARED_KEY_LISTS = 4_096;

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
  private readonly entries = new Map<string, ProfileState | PackedProfile>();
  /** Live subjects, least recently used first. */
  private readonly live = new Set<string>();
  /** Subjects a scan revived (not among the most recently used). */
  private readonly scanned = new Set<string>();
  /** The packed form a live subject was revived from, while it is unchanged. */
  private readonly originals = new Map<string, PackedProfile>();
  private readonly keyLists = new Map<string, readonly string[]>();
  private revived = 0;

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
    return this.live.size + this.scanned.size;
  }

  /** How many times a packed subject was revived (unpacked) so far. */
  get revivals(): number {
    return this.revived;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * The subject's state, live (revived if it was packed) and marked as just used. With `scan` (a
   * refresh going through every subject), a packed subject is revived only until the next `trim`,
   * which packs it again before any other (unless it changed), so a scan keeps the hot subjects live.
   */
  get(id: string, { scan = false }: { scan?: boolean } = {}): ProfileState | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (!(scan && isPacked(entry))) {
      this.scanned.delete(id);
      this.live.delete(id);
      this.live.add(id);
    }
    if (!isPacked(entry)) return entry;
    const profile = unpackProfile(entry.packed);
    this.revived += 1;
    this.entries.set(id, profile);
    this.originals.set(id, entry);
    if (scan) this.scanned.add(id);
    return profile;
  }

  /** A copy of the subject's state to read only (a packed one stays packed). */
  peek(id: string): ProfileState | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && isPacked(entry) ? unpackProfile(entry.packed) : entry;
  }

  /** What a refresh may know of the subject while it is packed; undefined while it is live. */
  packedSummary(id: string): PackedSummary | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && isPacked(entry) ? entry.summary : undefined;
  }

  /** Whether the subject is an absorbed profile, without reviving it. */
  isGhost(id: string): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    return isPacked(entry) ? entry.ghost : entry.mergedInto !== undefined;
  }

  set(profile: ProfileState): void {
    this.entries.set(profile.id, profile);
    this.scanned.delete(profile.id);
    this.originals.delete(profile.id);
    this.live.delete(profile.id);
    this.live.add(profile.id);
  }

  delete(id: string): void {
    this.entries.delete(id);
    this.live.delete(id);
    this.scanned.delete(id);
    this.originals.delete(id);
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

  /**
   * Packs the subjects a scan revived (one that changed joins the most recently used instead: it
   * is written at the next checkpoint), then the least recently used beyond the hot limit.
   */
  trim(): void {
    for (const id of this.scanned) {
      this.scanned.delete(id);
      if (this.changed(id)) this.live.add(id);
      else this.packAgain(id);
    }
    for (const id of this.live) {
      if (this.live.size <= this.hotLimit) break;
      this.live.delete(id);
      this.packAgain(id);
    }
  }

  private packAgain(id: string): void {
    const profile = this.entries.get(id);
    if (profile === undefined || isPacked(profile)) return;
    const original = this.changed(id) ? undefined : this.originals.get(id);
    this.originals.delete(id);
    this.entries.set(id, original ?? this.pack(profile));
  }

  private pack(profile: ProfileState): PackedProfile {
    return {
      packed: packProfile(profile),
      summary: {
        plain:
          profile.accountId === undefined &&
          (profile.accounts ?? []).length === 0 &&
          profile.mergedInto === undefined,
        nextAt: profile.nextAt,
        readKeys: this.shared(readKeysOfState(profile)),
      },
      ghost: profile.mergedInto !== undefined,
    };
  }

  private shared(keys: string[]): readonly string[] {
    const text = keys.join('\u0001');
    const known = this.keyLists.get(text);
    if (known !== undefined) return known;
    if (this.keyLists.size >= SHARED_KEY_LISTS) this.keyLists.clear();
    this.keyLists.set(text, keys);
    return keys;
  }
}

function isPacked(entry: ProfileState | PackedProfile): entry is PackedProfile {
  return 'packed' in entry;
}
