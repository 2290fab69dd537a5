import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { segmentDefinitionsTopic } from '@shoal/contracts';
import {
  CLOCK,
  type Clock,
  EventPublisher,
  LOGGER,
  type Logger,
  MongoLease,
  RelayLoop,
} from '@shoal/platform';
import { Db } from 'mongodb';
import type { SegmentChangeNotifier } from './segments.service';
import { SEGMENT_REPOSITORY, type SegmentRepositoryPort } from './segments.repository';

/**
 * Records each committed change in history and publishes the segment's current definition
 * to the compacted definitions topic (a tombstone once deleted), then clears the change from
 * the segment's outbox. At least once, in version order, by one replica at a time.
 */
@Injectable()
export class DefinitionsRelay
  implements SegmentChangeNotifier, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly loop: RelayLoop;

  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) logger: Logger,
    @Inject(CLOCK) clock: Clock,
    db: Db,
  ) {
    this.loop = new RelayLoop({
      name: 'segment-definitions',
      drainOnce: () => this.drainOnce(),
      lease: new MongoLease(db, 'segment-definitions-relay', 15_000, clock),
      intervalMs: 2_000,
      logger,
    });
  }

  changed(): void {
    this.loop.kick();
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** Waits until everything committed so far has been handled (for tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  private async drainOnce(): Promise<number> {
    const batch = await this.segments.withPendingChanges(100);
    if (batch.length === 0) return 0;
    for (const { pending } of batch)
      for (const change of pending) await this.segments.saveVersion(change);
    await this.publisher.publish(
      segmentDefinitionsTopic,
      batch.map(({ id, deleted, current }) => ({ key: id, value: deleted ? null : current })),
    );
    for (const { id, pending } of batch) {
      await this.segments.clearPending(id, Math.max(...pending.map((p) => p.version)));
    }
    return batch.length;
  }
}
