import type { Logger } from 'pino';
import type { MembershipEvents } from './membership-events.port';
import type { PartitionStatus, PartitionStore } from './partition-store.repository.port';

/** What a partition's status publication needs from around it. */
export interface StatusPublicationDeps {
  readonly partition: number;
  /** The owner epoch the partition was claimed with (a stale owner's statuses are refused). */
  readonly epoch: () => number;
  readonly events: MembershipEvents;
  readonly store: PartitionStore;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Called once the store says a newer owner took the partition. */
  readonly onFenced: () => void;
}

/**
 * A partition's segment statuses on their way out: published on the status topic, then stored in
 * `segment_status` — only those whose stored form changed since this owner last stored them, in
 * unordered bulk writes. Rounds run beside the checkpoints, never on the path of their offset
 * commits (a status is a report, not state a replay needs): statuses handed in while a round runs
 * are coalesced, the latest per segment, and go out in the next round; a round that fails hands
 * its statuses back to the next one.
 */
export class StatusPublication {
  /** By segment: its latest status, or null when its status is to be removed. */
  private pending = new Map<string, PartitionStatus | null>();
  /** By segment: the stored form of the status this owner last stored. */
  private readonly stored = new Map<string, string>();
  private running?: Promise<boolean>;

  constructor(private readonly deps: StatusPublicationDeps) {}

  /** Takes the statuses an earlier owner stored as stored by this one (none is stored again). */
  seed(statuses: readonly PartitionStatus[]): void {
    for (const status of statuses) this.stored.set(status.segmentId, statusText(status, 'stored'));
  }

  add(statuses: readonly PartitionStatus[], removed: readonly string[]): void {
    for (const status of statuses) this.pending.set(status.segmentId, status);
    for (const segmentId of removed) this.pending.set(segmentId, null);
  }

  /** Starts a round for what was handed in, unless one is running (the next one takes it). */
  start(): void {
    if (this.running !== undefined || this.pending.size === 0) return;
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
    void this.running.then((succeeded) => {
      if (succeeded) this.start();
    });
  }

  /** Waits for the rounds running now and those they start (not for retries of failed ones). */
  async flushed(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async round(): Promise<boolean> {
    const { partition, events, store, logger, clock } = this.deps;
    const batch = this.pending;
    this.pending = new Map();
    const statuses: PartitionStatus[] = [];
    const removed: string[] = [];
    for (const [segmentId, status] of batch) {
      if (status === null) removed.push(segmentId);
      else statuses.push(status);
    }
    const began = clock();
    try {
      await events.publishStatuses(
        statuses,
        removed.map((segmentId) => ({ segmentId, partition })),
      );
      const published = clock();
      const changed = statuses.filter(
        (s) => this.stored.get(s.segmentId) !== statusText(s, 'stored'),
      );
      if (changed.length > 0 || removed.length > 0) {
        if (!(await store.writeStatuses(partition, this.deps.epoch(), changed, removed))) {
          this.deps.onFenced();
          return false;
        }
      }
      for (const status of changed) this.stored.set(status.segmentId, statusText(status, 'stored'));
      for (const segmentId of removed) this.stored.delete(segmentId);
      logger.debug(
        {
          published: statuses.length,
          removed: removed.length,
          stored: changed.length,
          publishMs: published - began,
          storeMs: clock() - published,
        },
        'statuses published',
      );
      return true;
    } catch (error) {
      logger.warn(
        { err: error, partition, statuses: batch.size },
        'could not publish or store segment statuses; they go out with the next checkpoint',
      );
      for (const [segmentId, status] of batch)
        if (!this.pending.has(segmentId)) this.pending.set(segmentId, status);
      return false;
    }
  }
}

/**
 * A status without what moves at every report (the partition's lag, the report time) — and,
 * for publishing, without its last evaluation — as text to compare: its fields in a fixed order,
 * absent ones as null, so a status read back from the store compares equal to the one built.
 */
export function statusText(status: PartitionStatus, form: 'stored' | 'published'): string {
  return JSON.stringify([
    status.segmentId,
    status.partition,
    status.partitionCount,
    status.version,
    status.state,
    status.memberCount,
    status.valueTrait,
    status.valueSum ?? null,
    status.valuedMemberCount,
    form === 'stored' ? (status.lastEvaluatedAt ?? null) : null,
    status.lastRefreshedAt ?? null,
    status.lastError,
    status.notes,
  ]);
}
