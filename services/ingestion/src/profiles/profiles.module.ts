import { Module } from '@nestjs/common';
import { ProfilesGrpc } from './profiles.grpc';
import { MongoProfileRepository, PROFILE_REPOSITORY } from './profiles.repository';
import { ProfilesService } from './profiles.service';
import { UpstreamEventsConsumer } from './upstream-events.consumer';

const repositories = [
  MongoProfileRepository,
  { provide: PROFILE_REPOSITORY, useExisting: MongoProfileRepository },
];
const adapters = [ProfilesGrpc, UpstreamEventsConsumer];

@Module({ providers: [...repositories, ProfilesService, ...adapters] })
export class ProfilesModule {}
