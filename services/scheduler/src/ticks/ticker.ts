import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  CLOCK,
  type Clock,
  LOGGER,
  type Logger,
  MongoLease,
  PLATFORM,
  type PlatformContext,
} from '@shoal/platform';
import { Db } from 'mongodb';
import { DefinitionsFollower } from '../definitions/definitions.follower';
import { InsightService } from '../insight/insight.service';
import { SegmentStatusFollower } from '../insight/segment-status.follower';
import { JobProgressFollower } from '../jobs/job-progress.follower';
import { JobsService } from '../jobs/jobs.service';
import { SchedulesService } from '../schedules/schedules.service';

export const TICK_SETTINGS = Symbol('TickSettings');

export interface TickSettings {
  /** How often the lease holder looks for due ticks, queued jobs and silent workers. */
  readonly tickMs: number;
  /** How long a holder's lease lasts without renewal (it renews every tick). */
  readonly leaseMs: number;
}

/**
 * Starts the scheduler in order — every definition known, then statuses and job progress — and
 * then ticks: on each tick, the one instance holding the `scheduler` lease fires due schedule
 * ticks, dispatches the queued jobs that had to wait (jobs are dispatched as they are asked for),
 * fails silent ones and takes the daily snapshot. Another
 * instance takes over once a holder stops renewing; a tick both fire is still one job (its id).
 */
@Injectable()
export class Ticker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly lease: MongoLease;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private holding = false;
  private started = false;
  private lastError = '';

  constructor(
    @Inject(TICK_SETTINGS) private readonly settings: TickSettings,
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) clock: Clock,
    db: Db,
    private readonly definitions: DefinitionsFollower,
    private readonly statuses: SegmentStatusFollower,
    private readonly progress: JobProgressFollower,
    private readonly schedules: SchedulesService,
    private readonly jobs: JobsService,
    private readonly insight: InsightService,
  ) {
    this.lease = new MongoLease(db, 'scheduler', settings.leaseMs, clock);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { readiness } = this.platform;
    readiness.register({ name: 'definitions', check: async () => this.definitions.health() });
    readiness.register({ name: 'segment-status', check: async () => this.statuses.health() });
    readiness.register({ name: 'job-progress', check: async () => this.progress.health() });
    readiness.register({
      name: 'ticks',
      check: async () => {
        if (!this.started) throw new Error('starting');
        if (this.lastError) throw new Error(`the last tick failed: ${this.lastError}`);
        return this.holding ? 'holding the scheduler lease' : 'standing by';
      },
    });
    await this.definitions.start();
    await this.statuses.start();
    await this.progress.start();
    this.started = true;
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => {
        this.running = undefined;
      });
    }, this.settings.tickMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    if (this.holding) await this.lease.release().catch(() => undefined);
    // each waits for its consumer's fetch in flight (up to 5 s); one after another, with the
    // platform's consumers stopping after them, they overran the 15 s shutdown bound
    await Promise.all([this.progress.stop(), this.statuses.stop(), this.definitions.stop()]);
  }

  /** One round of the lease holder's work. */
  async tick(): Promise<void> {
    try {
      const holds = await this.lease.acquire();
      // a holder that lost the lease may have missed ticks another fired: forget what it cached
      if (holds && !this.holding) this.schedules.forget();
      this.holding = holds;
      if (!holds) return;
      await this.schedules.tick();
      await this.jobs.dispatchQueued();
      await this.jobs.expireStalled();
      await this.insight.snapshotIfDue();
      this.lastError = '';
    } catch (error) {
      this.lastError = (error as Error).message;
      this.logger.error({ err: error }, 'a scheduler tick failed');
    }
  }
}
