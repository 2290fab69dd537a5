import { Module } from '@nestjs/common';
import { ProfilesModule } from '../profiles/profiles.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { ProfileServiceGrpc } from './profile-service.grpc';

/** The one place ProfileService is composed from the features. */
@Module({ imports: [ProfilesModule, UpstreamModule], providers: [ProfileServiceGrpc] })
export class GrpcModule {}
