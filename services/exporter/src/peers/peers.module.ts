import { Module } from '@nestjs/common';
import { MembersGrpcClient } from './members.grpc-client';
import { MEMBER_SOURCE, PROFILE_SOURCE, SEGMENT_USAGE_REGISTRY } from './peers.ports';
import { ProfilesGrpcClient } from './profiles.grpc-client';
import { SegmentsGrpcClient } from './segments.grpc-client';

/** The other Shoal services the exporter reads from and reports to, each behind its port. */
@Module({
  providers: [
    { provide: MEMBER_SOURCE, useClass: MembersGrpcClient },
    { provide: PROFILE_SOURCE, useClass: ProfilesGrpcClient },
    { provide: SEGMENT_USAGE_REGISTRY, useClass: SegmentsGrpcClient },
  ],
  exports: [MEMBER_SOURCE, PROFILE_SOURCE, SEGMENT_USAGE_REGISTRY],
})
export class PeersModule {}
