import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { MongoLease } from '../mongo/lease';
import type { Clock } from '../time/clock';
import { isRecordTooLarge } from './records.errors';

export interface OutboxRelayOptions {
  /** Names the relay in logs and its lease in the store. */
  readonly name: string;
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often to look for pending work besides being kicked (recovers after a crash or outage). */
  readonly intervalMs?: number;
}

/**
 * Drives an outbox: work is written to the store first (the source of truth) and a relay
 * publishes it and marks it done, at least once. Only the holder of the relay's lease works, so
 * records are published in order by one replica at a time. `kick()` after a write gets it
 * published promptly; kicks while a drain runs coalesce into one more drain. A subclass says
 * how to handle one batch.
 */
export abstract class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly lease: MongoLease;
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = true;

  protected constructor(private readonly options: OutboxRelayOptions) {
    this.lease = new MongoLease(options.db, `${options.name}-relay`, 15_000, options.clock);
  }

  /** Processes one batch of pending work; returns how many items it handled (0 = nothing left). */
  protected abstract drainOnce(): Promise<number>;

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.intervalMs ?? 2_000);
    this.timer.unref();
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.idle();
    await this.lease.release().catch(() => undefined);
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once the relay is idle. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      if (!(await this.lease.acquire())) return;
      while (!this.stopped && (await this.drainOnce()) > 0) {
        if (!(await this.lease.acquire())) return;
      }
    } catch (error) {
      this.options.logger.warn(
        { err: error, relay: this.options.name },
        'relay failed; retrying shortly',
      );
    }
  }
}

/** How much one publish call of a relay may carry. */
export interface PublishBounds {
  readonly maxRecords: number;
  /** Sum of the records' sizes (as `sizeOf` measures them). */
  readonly maxBytes: number;
}

/**
 * Kafka error types that refuse a record for what it is: sending it again cannot succeed, while
 * the other records of its batch can. (Authorization, unknown topics and the like refuse every
 * record alike, so they are retried instead.)
 */
const RECORD_REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/** Whether an error refuses the records sent for what they are (retrying cannot help). */
export function isRecordRefusal(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (isRecordTooLarge(e)) return true;
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && RECORD_REFUSALS.has(type)) return true;
  }
  return false;
}

/** Consecutive runs of items within the bounds; an item larger than maxBytes goes alone. */
export function boundedBatches<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  bounds: PublishBounds,
): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (batch.length > 0 && (batch.length >= bounds.maxRecords || bytes + size > bounds.maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Publishes items so that none holds back another: in batches bounded by count and bytes (so
 * no batch is refused for its size), and a batch still refused for its records (a topic whose
 * limit is below Shoal's, a record above the limit) is sent again one record at a time. Each
 * batch sent is reported to `published`, each record refused on its own to `refused`, as it
 * happens; any other failure (the broker unavailable, ...) is thrown, to be retried later.
 */
export async function publishSeparately<T>({
  items,
  sizeOf,
  bounds,
  send,
  published,
  refused,
}: {
  items: readonly T[];
  sizeOf: (item: T) => number;
  bounds: PublishBounds;
  send: (batch: readonly T[]) => Promise<void>;
  published: (batch: readonly T[]) => Promise<void>;
  refused: (item: T, error: unknown) => Promise<void>;
}): Promise<void> {
  for (const batch of boundedBatches(items, sizeOf, bounds)) {
    try {
      await send(batch);
      await published(batch);
      continue;
    } catch (error) {
      if (!isRecordRefusal(error)) throw error;
      if (batch.length === 1) {
        await refused(batch[0] as T, error);
        continue;
      }
    }
    for (const item of batch) {
      try {
        await send([item]);
      } catch (error) {
        if (!isRecordRefusal(error)) throw error;
        await refused(item, error);
        continue;
      }
      await published([item]);
    }
  }
}
