import { addToSum, type ExactSum, sumValue } from '@shoal/rules';

/** How many chunks one segment's members in one partition are stored in (see docs/membership.md). */
export const MEMBER_BUCKETS = 16;

/** FNV-1a, 32 bits: a stable hash of a profile id for buckets and digests. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function bucketOf(profileId: string): number {
  return hash32(profileId) % MEMBER_BUCKETS;
}

/** What a stored member chunk is checked against: its size and the XOR of its members' hashes. */
export interface BucketDigest {
  readonly count: number;
  readonly xor: number;
}

/**
 * The members of one segment in one partition, split into hash buckets with running digests,
 * and the sum of the values its members are counted with (the segment's value trait).
 */
export class MemberIndex {
  private readonly buckets = Array.from({ length: MEMBER_BUCKETS }, () => new Set<string>());
  private readonly xors = new Array<number>(MEMBER_BUCKETS).fill(0);
  private count = 0;
  // exact partials: subtracting a value added earlier restores the sum bit for bit, in any order
  private sum: ExactSum = [];
  private valued = 0;

  get size(): number {
    return this.count;
  }

  /** The correctly rounded sum of the members' values. */
  get valueSum(): number {
    return sumValue(this.sum);
  }

  /** How many members are counted with a value. */
  get valuedCount(): number {
    return this.valued;
  }

  /** Counts a member's value in the sum (`sign` 1), or takes it out again (`sign` -1). */
  countValue(value: number, sign: 1 | -1): void {
    this.sum = addToSum(this.sum, sign * value);
    this.valued += sign;
  }

  has(profileId: string): boolean {
    return (this.buckets[bucketOf(profileId)] as Set<string>).has(profileId);
  }

  /** Adds or removes a member; returns the bucket when membership changed. */
  set(profileId: string, member: boolean): number | undefined {
    const hash = hash32(profileId);
    const bucket = hash % MEMBER_BUCKETS;
    const set = this.buckets[bucket] as Set<string>;
    if (set.has(profileId) === member) return undefined;
    if (member) set.add(profileId);
    else set.delete(profileId);
    this.count += member ? 1 : -1;
    this.xors[bucket] = ((this.xors[bucket] as number) ^ hash) >>> 0;
    return bucket;
  }

  bucket(index: number): ReadonlySet<string> {
    return this.buckets[index] as Set<string>;
  }

  digest(index: number): BucketDigest {
    return { count: (this.buckets[index] as Set<string>).size, xor: this.xors[index] as number };
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (const set of this.buckets) yield* set;
  }
}
