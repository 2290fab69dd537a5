import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { AccountsModule } from '../accounts/accounts.module';
import type { IngestionConfig } from '../service';
import { MongoIdentityRepository } from './identities.mongo-repository';
import { IDENTITY_REPOSITORY } from './identities.repository.port';
import { PROFILE_ACCESS_GROUPS, ProfileAccess, type ProfileAccessGroups } from './profile-access';
import { KafkaProfileChangePublisher } from './profile-changes.kafka-publisher';
import { PROFILE_CHANGE_PUBLISHER } from './profile-changes.publisher.port';
import {
  INGESTION_SETTINGS,
  type IngestionSettings,
  ProfileIngestionService,
} from './profile-ingestion.service';
import { MongoProfileRepository } from './profiles.mongo-repository';
import { PROFILE_REPOSITORY } from './profiles.repository.port';
import { ProfilesService } from './profiles.service';

/** A third of the consumers' 30 s session timeout: a waiting batch cannot heartbeat. */
const BACKPRESSURE_WAIT_MS = 10_000;
/** About half a second of the embedded store's work per command (INFRA.md: 26–105 ms per 800 upserts, more under load). */
const WRITES_PER_COMMAND = 1_000;
/** A store away for longer fails the checkpoint; it is put back and the next one retries it. */
const STORE_RETRY_MS = 60_000;

const configuration = [
  {
    provide: INGESTION_SETTINGS,
    useFactory: (config: IngestionConfig): IngestionSettings => ({
      checkpointIntervalMs: config.INGEST_CHECKPOINT_INTERVAL_MS,
      maxPendingProfiles: config.INGEST_MAX_PENDING_PROFILES,
      workingSetProfiles: config.INGEST_WORKING_SET_PROFILES,
      maxIdentities: config.INGEST_MAX_IDENTITIES,
      identityTraits: config.IDENTITY_TRAITS,
      dedupWindowMs: config.INGEST_DEDUP_WINDOW_SECONDS * 1000,
      dedupMaxPerProfile: config.INGEST_DEDUP_MAX_PER_PROFILE,
      backpressureWaitMs: BACKPRESSURE_WAIT_MS,
      writesPerCommand: WRITES_PER_COMMAND,
      storeRetryMs: STORE_RETRY_MS,
    }),
    inject: [CONFIG],
  },
  {
    provide: PROFILE_ACCESS_GROUPS,
    useFactory: (config: IngestionConfig): ProfileAccessGroups => ({
      readers: config.PROFILE_READER_GROUPS ?? [],
      writers: config.PROFILE_WRITER_GROUPS ?? [],
      admins: config.PROFILE_ADMIN_GROUPS ?? [],
    }),
    inject: [CONFIG],
  },
  {
    provide: ProfileAccess,
    useFactory: (groups: ProfileAccessGroups) => new ProfileAccess(groups),
    inject: [PROFILE_ACCESS_GROUPS],
  },
];
const repositories = [
  MongoProfileRepository,
  { provide: PROFILE_REPOSITORY, useExisting: MongoProfileRepository },
  MongoIdentityRepository,
  { provide: IDENTITY_REPOSITORY, useExisting: MongoIdentityRepository },
];
const adapters = [
  KafkaProfileChangePublisher,
  { provide: PROFILE_CHANGE_PUBLISHER, useExisting: KafkaProfileChangePublisher },
];
const services = [ProfileIngestionService, ProfilesService];

/** Profiles: the working set, identity resolution, checkpoints, reads and changes on request. */
@Module({
  imports: [AccountsModule],
  providers: [...configuration, ...repositories, ...adapters, ...services],
  exports: [ProfileIngestionService, ProfilesService, ProfileAccess],
})
export class ProfilesModule {}
