import { toBinary } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { SegmentSchema, segmentDefinitionsTopic } from '@shoal/contracts';
import {
  CLOCK,
  CONFIG,
  type Clock,
  EventPublisher,
  LOGGER,
  type Logger,
  OutboxRelay,
  publishSeparately,
} from '@shoal/platform';
import { Db } from 'mongodb';
import type { SegmentsConfig } from '../service';
import type { SegmentChangeNotifier } from './segment-versions.service';
import {
  type PendingSegment,
  SEGMENT_REPOSITORY,
  type SegmentRepositoryPort,
} from './segments.repository.port';

/** Segments read per round. */
const MAX_SEGMENTS = 100;
/** Headers (content type, trace context) and record framing, over key and value. */
const RECORD_OVERHEAD_BYTES = 512;

/**
 * Records each committed change in history and publishes the segment's current definition
 * to the compacted definitions topic (a tombstone once deleted), then clears the change from
 * the segment's outbox. No definition holds back another: publishing goes in batches bounded
 * by bytes, and a definition the broker refuses for good is marked failed on its segment (its
 * owner sees why in GetSegment) while the others are published. Anything else, such as the
 * broker being unavailable, is retried.
 */
@Injectable()
export class DefinitionsRelay extends OutboxRelay implements SegmentChangeNotifier {
  private readonly maxRecordBytes: number;

  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) config: SegmentsConfig,
    db: Db,
  ) {
    super({ name: 'segment-definitions', db, clock, logger });
    this.maxRecordBytes = config.KAFKA_MAX_MESSAGE_BYTES;
  }

  changed(): void {
    this.kick();
  }

  protected async drainOnce(): Promise<number> {
    const batch = await this.segments.withPendingChanges({
      maxSegments: MAX_SEGMENTS,
      maxBytes: 4 * this.maxRecordBytes,
    });
    if (batch.length === 0) return 0;
    for (const { pending } of batch)
      for (const change of pending) await this.segments.saveVersion(change);
    await publishSeparately({
      items: batch,
      sizeOf: (s) =>
        s.id.length +
        RECORD_OVERHEAD_BYTES +
        (s.deleted ? 0 : toBinary(SegmentSchema, s.current).length),
      bounds: { maxRecords: MAX_SEGMENTS, maxBytes: this.maxRecordBytes },
      send: (segments) =>
        this.publisher.publish(
          segmentDefinitionsTopic,
          segments.map(({ id, deleted, current }) => ({
            key: id,
            value: deleted ? null : current,
          })),
        ),
      published: async (segments) => {
        for (const { id, version } of segments) await this.segments.clearPending(id, version);
      },
      refused: (segment, error) => this.refused(segment, error),
    });
    return batch.length;
  }

  private async refused({ id, version }: PendingSegment, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      { err: error, segmentId: id, version },
      'the broker refused a segment definition; marked failed on the segment',
    );
    await this.segments.markPublishFailed(id, {
      version,
      error: `the broker refused version ${version} of the definition: ${reason}`,
      atMs: this.clock.now().getTime(),
    });
  }
}
