import type { Clock } from '../time/clock';

/** A partition with work in hand that has made no progress for longer than allowed. */
export interface StalledPartition {
  readonly partition: number;
  readonly stalledForMs: number;
  readonly lastError: string | undefined;
}

interface Work {
  since: Date;
  lastError: string | undefined;
  stalled: boolean;
}

/**
 * Tracks, per partition, since when a consumer has had work in hand without finishing any
 * of it, and the last failure meanwhile. A partition stalls when that lasts longer than
 * `stalledAfterMs` (a store that stays down, a dead-letter topic that refuses records);
 * `onChange` hears each partition entering and leaving that state.
 */
export class PartitionProgress {
  private readonly work = new Map<number, Work>();

  constructor(
    private readonly clock: Clock,
    private readonly stalledAfterMs: number,
    private readonly onChange: (partition: number, stalled: boolean) => void,
  ) {}

  /** Work on the partition begins (or goes on). */
  begin(partition: number): void {
    if (!this.work.has(partition))
      this.work.set(partition, { since: this.clock.now(), lastError: undefined, stalled: false });
  }

  failed(partition: number, error: string): void {
    const work = this.work.get(partition);
    if (work) work.lastError = error;
    this.check();
  }

  /** Some of the work is done and committed: the clock starts again. */
  progressed(partition: number): void {
    const work = this.work.get(partition);
    if (!work) return;
    work.since = this.clock.now();
    work.lastError = undefined;
    this.mark(partition, work, false);
  }

  /** The partition has no work in hand (batch done, revoked, or the consumer stopped). */
  end(partition: number): void {
    const work = this.work.get(partition);
    if (!work) return;
    this.mark(partition, work, false);
    this.work.delete(partition);
  }

  /** The partitions stalled now; updates their state. */
  check(): StalledPartition[] {
    const now = this.clock.now().getTime();
    const stalled: StalledPartition[] = [];
    for (const [partition, work] of this.work) {
      const stalledForMs = now - work.since.getTime();
      const isStalled = stalledForMs > this.stalledAfterMs;
      this.mark(partition, work, isStalled);
      if (isStalled) stalled.push({ partition, stalledForMs, lastError: work.lastError });
    }
    return stalled;
  }

  private mark(partition: number, work: Work, stalled: boolean): void {
    if (work.stalled === stalled) return;
    work.stalled = stalled;
    this.onChange(partition, stalled);
  }
}
