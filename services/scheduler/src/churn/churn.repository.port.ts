export const CHURN_REPOSITORY = Symbol('ChurnRepository');

/** One segment's churn on one day (UTC), and how far each input partition was counted. */
export interface ChurnDay {
  readonly segmentId: string;
  /** "YYYY-MM-DD", UTC. */
  readonly day: string;
  readonly entered: number;
  readonly exited: number;
  /**
   * Per partition of shoal.membership.changes, the offset of the last transition counted into
   * this day: a transition at or below it was counted already (a re-delivery).
   */
  readonly counted: Readonly<Record<string, number>>;
}

/** What one partition's batch adds to one (segment, day). */
export interface ChurnIncrement {
  readonly segmentId: string;
  readonly day: string;
  readonly partition: number;
  /** The partition's mark as read before counting (undefined: none yet). */
  readonly expectedMark: number | undefined;
  /** The offset of the last transition counted now: the partition's new mark. */
  readonly mark: number;
  readonly entered: number;
  readonly exited: number;
}

/** Per-(segment, day) churn counters, one document each, read and written by `_id`. */
export interface ChurnRepositoryPort {
  find(segmentId: string, days: readonly string[]): Promise<ChurnDay[]>;
  /**
   * Adds each increment's counts and moves its partition's mark, each only if that mark still is
   * its `expectedMark`, in one round trip. True when every increment was applied; false when at
   * least one was not (another writer counted meanwhile: read again) — the others may have been.
   */
  addAll(increments: readonly ChurnIncrement[]): Promise<boolean>;
}
