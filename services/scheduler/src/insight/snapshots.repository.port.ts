export const SNAPSHOT_REPOSITORY = Symbol('SnapshotRepository');

/** A segment's member count as one day's snapshot took it. */
export interface Snapshot {
  readonly segmentId: string;
  /** "YYYY-MM-DD", UTC. */
  readonly day: string;
  readonly memberCount: number;
  /** The sum of the segment's value trait over its members, when it named one. */
  readonly valueSum?: number;
  readonly valueTrait?: string;
  readonly takenAtMs: number;
}

/** Daily snapshots, one document per (segment, day), read by `_id`. */
export interface SnapshotRepositoryPort {
  /** Writes the day's snapshots (taking one again replaces it). */
  save(snapshots: readonly Snapshot[]): Promise<void>;
  /** The snapshots of these days that exist, in the order asked. */
  find(segmentId: string, days: readonly string[]): Promise<Snapshot[]>;
  lastRunMs(): Promise<number | undefined>;
  setLastRun(atMs: number): Promise<void>;
}
