import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { ProfilesModule } from '../profiles/profiles.module';
import type { IngestionConfig } from '../service';
import { UPSTREAM_RULES, type UpstreamRules } from './upstream-event';
import { UpstreamEventsConsumer } from './upstream-events.consumer';

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
    }),
    inject: [CONFIG],
  },
];
const adapters = [UpstreamEventsConsumer];

/** Upstream events: what they may hold, and the consumer of the upstream topic. */
@Module({
  imports: [ProfilesModule],
  providers: [...configuration, ...adapters],
  exports: [UPSTREAM_RULES],
})
export class UpstreamModule {}
