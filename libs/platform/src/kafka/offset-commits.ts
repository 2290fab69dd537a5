/** A partition's next offset to read, as kafkajs commits it. */
export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

interface Pending {
  offset: string;
  readonly waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/**
 * Offset commits of a consumer, coalesced: the offsets asked for in the same turn of the event
 * loop, or while a commit request is in flight, go out together in one request, with only the
 * highest offset of each partition. Partitions whose effects become durable at the same moment
 * (one checkpoint covering many batches) then cost one request instead of one each, one after
 * the other. A caller's promise settles with the request that carried its offset (or a higher
 * one of its partition).
 *
 * With `minIntervalMs`, requests are also paced: one starts at least that long after the one
 * before, carrying everything asked for meanwhile. A consumer that commits after every small
 * batch would otherwise send the broker a commit per batch (kafkajs' own auto-commit does, and
 * commits were the broker's most frequent request at a few hundred events a second); paced, a
 * crash delivers at most an interval's records more again. flush() ends the pacing for good:
 * a stopping consumer commits what is due at once.
 */
export class OffsetCommits {
  private pending = new Map<string, Pending & { topic: string; partition: number }>();
  private draining = false;
  private lastRequestAt = -Infinity;
  private flushed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly send: (offsets: TopicPartitionOffset[]) => Promise<void>,
    private readonly minIntervalMs = 0,
  ) {}

  commit(topic: string, partition: number, offset: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const key = `${partition}\u0000${topic}`;
      const pending = this.pending.get(key);
      if (pending === undefined) {
        this.pending.set(key, { topic, partition, offset, waiters: [{ resolve, reject }] });
      } else {
        if (BigInt(offset) > BigInt(pending.offset)) pending.offset = offset;
        pending.waiters.push({ resolve, reject });
      }
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Sends what is asked for without pacing, now and from now on (the consumer is stopping). */
  flush(): void {
    this.flushed = true;
    this.wake?.();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        await this.paced();
        const batch = [...this.pending.values()];
        this.pending = new Map();
        this.lastRequestAt = performance.now();
        try {
          await this.send(
            batch.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
          );
          for (const { waiters } of batch) for (const waiter of waiters) waiter.resolve();
        } catch (error) {
          for (const { waiters } of batch) for (const waiter of waiters) waiter.reject(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Waits until the next request may start (at once when flushed). */
  private async paced(): Promise<void> {
    const wait = this.lastRequestAt + this.minIntervalMs - performance.now();
    if (this.flushed || wait <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }
}
