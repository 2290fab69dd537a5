import { Inject, Injectable } from '@nestjs/common';
import { segmentDefinitionsTopic } from '@shoal/contracts';
import {
  CLOCK,
  type Clock,
  EventPublisher,
  LOGGER,
  type Logger,
  OutboxRelay,
} from '@shoal/platform';
import { Db } from 'mongodb';
import type { SegmentChangeNotifier } from './segments.service';
import { SEGMENT_REPOSITORY, type SegmentRepositoryPort } from './segments.repository';

/**
 * Records each committed change in history and publishes the segment's current definition
 * to the compacted definitions topic (a tombstone once deleted), then clears the change from
 * the segment's outbox.
 */
@Injectable()
export class DefinitionsRelay extends OutboxRelay implements SegmentChangeNotifier {
  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) logger: Logger,
    @Inject(CLOCK) clock: Clock,
    db: Db,
  ) {
    super({ name: 'segment-definitions', db, clock, logger });
  }

  changed(): void {
    this.kick();
  }

  protected async drainOnce(): Promise<number> {
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
