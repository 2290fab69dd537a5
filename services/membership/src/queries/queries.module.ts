import { Module } from '@nestjs/common';
import { PartitionsModule } from '../partitions/partitions.module';
import { SegmentsModule } from '../segments/segments.module';
import { MembershipGrpc } from './membership.grpc';
import { PreviewService } from './preview.service';
import { MembershipQueriesService } from './queries.service';

/** MembershipService: membership questions over gRPC. */
@Module({
  imports: [SegmentsModule, PartitionsModule],
  providers: [MembershipQueriesService, PreviewService, MembershipGrpc],
})
export class QueriesModule {}
