import type { Logger } from 'pino';
import type { MongoLease } from '../mongo/lease';

export interface RelayLoopOptions {
  readonly name: string;
  /** Processes one batch of pending work; returns how many items it handled (0 = nothing left). */
  readonly drainOnce: () => Promise<number>;
  /** Only the lease holder relays, so records are published in order by one process. */
  readonly lease: MongoLease;
  /** How often to look for pending work besides being kicked (recovers after a crash or outage). */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/**
 * Drives an outbox: work is written to the store first (the source of truth) and this loop
 * publishes it and marks it done, at least once. `kick()` after a write gets it published
 * promptly; kicks while a drain runs coalesce into one more drain.
 */
export class RelayLoop {
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: RelayLoopOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.intervalMs);
    this.timer.unref();
    this.kick();
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

  /** Resolves once the loop is idle (tests and shutdown use it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.idle();
    await this.options.lease.release().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    try {
      if (!(await this.options.lease.acquire())) return;
      while (!this.stopped && (await this.options.drainOnce()) > 0) {
        if (!(await this.options.lease.acquire())) return;
      }
    } catch (error) {
      this.options.logger.warn(
        { err: error, relay: this.options.name },
        'relay failed; retrying shortly',
      );
    }
  }
}
