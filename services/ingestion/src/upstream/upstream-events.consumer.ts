import { Inject } from '@nestjs/common';
import { type UpstreamEvent, upstreamEventsTopic } from '@shoal/contracts';
import {
  type ConsumedRecord,
  type HandledBatch,
  TopicConsumer,
  type TopicHandler,
} from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { ProfileIngestionService } from '../profiles/profile-ingestion.service';
import { UPSTREAM_RULES, type UpstreamRules } from './upstream-event';
import { decodeUpstreamRecord } from './upstream-record';

/**
 * Upstream customer events → profiles. Records that cannot be events are dead-lettered by the
 * consumer; records refused against the profiles (IDENTITY_LIMIT) are dead-lettered with their
 * reason. Offsets are committed once a checkpoint holds a batch's effects.
 */
@TopicConsumer({
  topic: upstreamEventsTopic,
  groupId: 'ingestion',
  // a batch heartbeats only between chunks: 2,000 records claim ~3,000 identifiers, seconds of
  // a busy store's work, where 5,000 outlived the 30 s group session on a CPU-starved machine
  maxBatchSize: 2_000,
  partitionsConsumedConcurrently: 4,
  commitWhenDurable: true,
})
export class UpstreamEventsConsumer implements TopicHandler<UpstreamEvent> {
  constructor(
    private readonly ingestion: ProfileIngestionService,
    @Inject(UPSTREAM_RULES) private readonly rules: UpstreamRules,
  ) {}

  decode(message: KafkaMessage): UpstreamEvent {
    return decodeUpstreamRecord(message, this.rules);
  }

  async handleBatch(
    records: readonly ConsumedRecord<UpstreamEvent>[],
  ): Promise<HandledBatch<UpstreamEvent>> {
    const { refused, durable } = await this.ingestion.ingest(
      records.map((r) => ({
        event: r.value,
        origin: `${r.partition}:${r.offset}`,
        arrivedAt: r.timestamp.getTime(),
      })),
    );
    return {
      durable,
      refused: refused.map(({ index, reason, error }) => ({
        record: records[index] as ConsumedRecord<UpstreamEvent>,
        reason,
        error,
      })),
    };
  }
}
