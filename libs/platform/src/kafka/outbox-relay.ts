import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { MongoLease } from '../mongo/lease';
import type { Clock } from '../time/clock';

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
