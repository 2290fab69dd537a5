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
 */
export class OffsetCommits {
  private pending = new Map<string, Pending & { topic: string; partition: number }>();
  private draining = false;

  constructor(private readonly send: (offsets: TopicPartitionOffset[]) => Promise<void>) {}

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

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending.values()];
        this.pending = new Map();
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
}
