import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import type { MembershipConfig } from '../service';
import { SegmentsModule } from '../segments/segments.module';
import { CommandsFollower } from './commands.follower';
import { MEMBERSHIP_EVENTS } from './membership-events.port';
import { KafkaMembershipEvents } from './membership-events.kafka';
import { MEMBERSHIP_SETTINGS, settingsFromConfig } from './membership-settings';
import { MembershipConsumer } from './membership.consumer';
import { MembershipLifecycle } from './membership.lifecycle';
import { PARTITION_STORE } from './partition-store.repository.port';
import { MongoPartitionStore } from './partition-store.mongo-repository';
import { PartitionsService } from './partitions.service';

const configuration = [
  {
    provide: MEMBERSHIP_SETTINGS,
    useFactory: (config: MembershipConfig) => settingsFromConfig(config),
    inject: [CONFIG],
  },
];
const ports = [
  MongoPartitionStore,
  { provide: PARTITION_STORE, useExisting: MongoPartitionStore },
  KafkaMembershipEvents,
  { provide: MEMBERSHIP_EVENTS, useExisting: KafkaMembershipEvents },
];
const adapters = [MembershipConsumer, CommandsFollower, MembershipLifecycle];

/** The owned partitions: evaluation, timers, checkpoints, refreshes, status. */
@Module({
  imports: [SegmentsModule],
  providers: [...configuration, ...ports, PartitionsService, ...adapters],
  exports: [PartitionsService],
})
export class PartitionsModule {}
