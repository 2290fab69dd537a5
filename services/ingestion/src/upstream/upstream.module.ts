import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { ProfilesModule } from '../profiles/profiles.module';
import type { IngestionConfig } from '../service';
import { UPSTREAM_RULES, type UpstreamRules, maxEventBytes } from './upstream-event';
import { UpstreamEventsConsumer } from './upstream-events.consumer';
import { KafkaUpstreamEvents } from './upstream-events.kafka';
import { UPSTREAM_EVENTS } from './upstream-events.port';
import { UpstreamIngestService } from './upstream-ingest.service';

const configuration = [
  {
    provide: UPSTREAM_RULES,
    useFactory: (config: IngestionConfig): UpstreamRules => ({
      limits: {
        maxDepth: config.INGEST_MAX_DEPTH,
        maxKeys: config.INGEST_MAX_KEYS,
        maxKeyLength: config.INGEST_MAX_KEY_LENGTH,
        maxStringLength: config.INGEST_MAX_STRING_LENGTH,
      },
      maxFutureMs: config.INGEST_MAX_FUTURE_SECONDS * 1000,
      reservedTraits: new Set(config.INGEST_RESERVED_TRAITS),
      identityTraits: config.IDENTITY_TRAITS,
      maxEventBytes: maxEventBytes(config.KAFKA_MAX_MESSAGE_BYTES),
    }),
    inject: [CONFIG],
  },
];
const adapters = [
  UpstreamEventsConsumer,
  KafkaUpstreamEvents,
  { provide: UPSTREAM_EVENTS, useExisting: KafkaUpstreamEvents },
];

/** Upstream events: what they may hold, the consumer of the upstream topic, Ingest over gRPC. */
@Module({
  imports: [ProfilesModule],
  providers: [...configuration, ...adapters, UpstreamIngestService],
  exports: [UpstreamIngestService],
})
export class UpstreamModule {}
