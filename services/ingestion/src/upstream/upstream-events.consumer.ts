import { Inject } from '@nestjs/common';
import { type UpstreamEvent, upstreamEventsTopic } from '@shoal/contracts';
import { type ConsumedRecord, TopicConsumer, type TopicHandler } from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { ProfilesService } from '../profiles/profiles.service';
import { UPSTREAM_RULES, type UpstreamRules } from './upstream-event';
import { decodeUpstreamRecord } from './upstream-record';

/** Upstream customer events → profiles. Bad records are dead-lettered by the consumer. */
@TopicConsumer({ topic: upstreamEventsTopic, groupId: 'ingestion' })
export class UpstreamEventsConsumer implements TopicHandler<UpstreamEvent> {
  constructor(
    private readonly profiles: ProfilesService,
    @Inject(UPSTREAM_RULES) private readonly rules: UpstreamRules,
  ) {}

  decode(message: KafkaMessage): UpstreamEvent {
    return decodeUpstreamRecord(message, this.rules);
  }

  async handleBatch(records: readonly ConsumedRecord<UpstreamEvent>[]): Promise<void> {
    await this.profiles.ingest(records.map((r) => r.value));
  }
}
