import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import type { IngestionConfig } from '../service';
import { ProfilesGrpc } from './profiles.grpc';
import { MongoProfileRepository, PROFILE_REPOSITORY } from './profiles.repository';
import { PROFILE_READERS, type ProfileReaders, ProfilesService } from './profiles.service';
import { UpstreamEventsConsumer } from './upstream-events.consumer';
import { UPSTREAM_LIMITS, limitsFromConfig } from './upstream-record-limits';

const repositories = [
  MongoProfileRepository,
  { provide: PROFILE_REPOSITORY, useExisting: MongoProfileRepository },
];
const adapters = [ProfilesGrpc, UpstreamEventsConsumer];
const configuration = [
  {
    provide: UPSTREAM_LIMITS,
    useFactory: (config: IngestionConfig) => limitsFromConfig(config),
    inject: [CONFIG],
  },
  {
    provide: PROFILE_READERS,
    useFactory: (config: IngestionConfig): ProfileReaders => ({
      groups: config.PROFILE_READER_GROUPS ?? [],
    }),
    inject: [CONFIG],
  },
];

@Module({ providers: [...configuration, ...repositories, ProfilesService, ...adapters] })
export class ProfilesModule {}
