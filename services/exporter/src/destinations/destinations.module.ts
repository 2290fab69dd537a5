import { Module } from '@nestjs/common';
import { CLOCK, CONFIG, type Clock, PLATFORM, type PlatformContext } from '@shoal/platform';
import { PeersModule } from '../peers/peers.module';
import { SegmentsModule } from '../segments/segments.module';
import type { ExporterConfig } from '../service';
import { DeadLettersService } from './dead-letters.service';
import { DESTINATION_KINDS, DestinationKinds } from './destination-kinds';
import { DestinationsGrpc } from './destinations.grpc';
import {
  DestinationMongoRepository,
  ErasureMongoRepository,
  LinkStateMongoRepository,
  RefreshJobMongoRepository,
  SyncQueueMongoRepository,
  SyncRunMongoRepository,
} from './destinations.mongo-repository';
import {
  DESTINATION_REPOSITORY,
  ERASURE_REPOSITORY,
  LINK_STATE_REPOSITORY,
  REFRESH_JOB_REPOSITORY,
  SYNC_QUEUE,
  SYNC_RUN_REPOSITORY,
} from './destinations.repository.port';
import { DestinationsService, SECRET_REGISTRY } from './destinations.service';
import { ErasureService } from './erasure.service';
import { ErasuresConsumer } from './erasures.consumer';
import { RefreshesConsumer } from './refreshes.consumer';
import { SyncDispatcher } from './sync.dispatcher';
import { SYNC_SETTINGS, type SyncSettings, SyncService } from './sync.service';
import { TransitionsConsumer } from './transitions.consumer';
import { FileDestinationKind } from './file.destination';
import { KafkaTopicDestinationKind } from './kafka-topic.destination';
import { WebhookDestinationKind } from './webhook.destination';
import { WebhookAddressPolicy, allowListOf } from './webhook-address';

/** Every destination kind this exporter serves; a new kind is one more entry here. */
const kinds = (clock: Clock, config: ExporterConfig) =>
  new DestinationKinds([
    new WebhookDestinationKind(
      clock,
      new WebhookAddressPolicy(allowListOf(config.EXPORTER_WEBHOOK_ALLOWED_CIDRS ?? [])),
    ),
    new FileDestinationKind(config.EXPORTER_FILE_ROOT, clock),
    new KafkaTopicDestinationKind(),
  ]);

const REPOSITORIES = [
  { provide: DESTINATION_REPOSITORY, useClass: DestinationMongoRepository },
  { provide: SYNC_QUEUE, useClass: SyncQueueMongoRepository },
  { provide: SYNC_RUN_REPOSITORY, useClass: SyncRunMongoRepository },
  { provide: REFRESH_JOB_REPOSITORY, useClass: RefreshJobMongoRepository },
  { provide: LINK_STATE_REPOSITORY, useClass: LinkStateMongoRepository },
  { provide: ERASURE_REPOSITORY, useClass: ErasureMongoRepository },
];

/** Destinations, their links, and syncing membership to them. */
@Module({
  imports: [SegmentsModule, PeersModule],
  providers: [
    ...REPOSITORIES,
    { provide: DESTINATION_KINDS, useFactory: kinds, inject: [CLOCK, CONFIG] },
    {
      provide: SECRET_REGISTRY,
      useFactory: (platform: PlatformContext) => platform.secrets,
      inject: [PLATFORM],
    },
    {
      provide: SYNC_SETTINGS,
      useFactory: (config: ExporterConfig): SyncSettings => ({
        retry: {
          baseMs: config.EXPORTER_RETRY_BASE_MS,
          maxMs: config.EXPORTER_RETRY_MAX_MS,
          maxRetryAfterMs: config.EXPORTER_RETRY_AFTER_MAX_MS,
        },
        maxBatchWaitMs: config.EXPORTER_BATCH_MAX_WAIT_MS,
        maxDestinations: config.EXPORTER_DESTINATIONS_MAX,
        maxPausedBacklog: config.EXPORTER_PAUSED_BACKLOG_MAX,
      }),
      inject: [CONFIG],
    },
    DestinationsService,
    SyncService,
    SyncDispatcher,
    DeadLettersService,
    ErasureService,
    TransitionsConsumer,
    ErasuresConsumer,
    RefreshesConsumer,
    DestinationsGrpc,
  ],
  exports: [DestinationsGrpc],
})
export class DestinationsModule {}
