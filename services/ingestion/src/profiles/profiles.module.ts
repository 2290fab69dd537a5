import { Module } from '@nestjs/common';
import { ProfilesGrpc } from './profiles.grpc';
import { MongoProfileRepository, PROFILE_REPOSITORY } from './profiles.repository';
import { ProfilesService } from './profiles.service';

const repositories = [
  MongoProfileRepository,
  { provide: PROFILE_REPOSITORY, useExisting: MongoProfileRepository },
];
const adapters = [ProfilesGrpc];

@Module({ providers: [...repositories, ProfilesService, ...adapters], exports: [ProfilesService] })
export class ProfilesModule {}
