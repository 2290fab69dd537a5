import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Destination, SyncRun } from '@shoal/contracts';
import { CLOCK, CONFIG, type Clock, LOGGER, MongoLease } from '@shoal/platform';
import { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { ExporterConfig } from '../service';
import { DESTINATION_KINDS, type DestinationKinds } from './destination-kinds';
import { SyncService } from './sync.service';

/**
 * Drives delivery: every EXPORTER_SYNC_INTERVAL_MS, the replica holding the dispatch lease
 * starts draining each destination that is not already being drained, each in its own lane,
 * so a destination waiting out its backoff holds up no other. Full syncs (sync now, and full
 * links whose schedule is due) run in lanes of their own too.
 */
@Injectable()
export class SyncDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly background = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly lease: MongoLease;
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    private readonly sync: SyncService,
    @Inject(DESTINATION_KINDS) private readonly kinds: DestinationKinds,
    db: Db,
    @Inject(CONFIG) private readonly config: ExporterConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.lease = new MongoLease(
      db,
      'exporter-dispatch',
      config.EXPORTER_SYNC_INTERVAL_MS * 10,
      clock,
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.EXPORTER_SYNC_INTERVAL_MS);
  }

  /** Starts a full sync beside the lanes; stopped and waited for at shutdown. */
  startFull(destination: Destination, segmentId: string): SyncRun {
    const { run, done } = this.sync.startFull(destination, segmentId, this.stopping.signal);
    const tracked: Promise<void> = done
      .catch((error: unknown) => this.logger.error({ err: error }, 'background sync failed'))
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
    return run;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await Promise.all([...this.lanes.values(), ...this.background]);
    await this.kinds.close();
    await this.lease.release().catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopping.signal.aborted) return;
    this.ticking = true;
    try {
      if (!(await this.lease.acquire())) return;
      for (const destination of await this.sync.all()) {
        for (const segmentId of await this.sync.dueScheduled(destination))
          this.startFull(destination, segmentId);
        if (this.lanes.has(destination.id)) continue;
        const lane = this.sync
          .drain(destination, this.stopping.signal)
          .catch((error: unknown) =>
            this.logger.error({ err: error, destinationId: destination.id }, 'draining failed'),
          )
          .finally(() => this.lanes.delete(destination.id));
        this.lanes.set(destination.id, lane);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'sync dispatch failed; trying again');
    } finally {
      this.ticking = false;
    }
  }
}
