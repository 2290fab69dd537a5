import { Module } from '@nestjs/common';
import { SegmentsModule } from '../segments/segments.module';
import { SegmentStatusFollower } from './segment-status.follower';
import { MongoSegmentStatusRepository } from './segment-status.mongo-repository';
import { SEGMENT_STATUS_REPOSITORY } from './segment-status.repository.port';
import { SegmentStatusService } from './segment-status.service';

const repositories = [
  { provide: SEGMENT_STATUS_REPOSITORY, useClass: MongoSegmentStatusRepository },
];
const adapters = [SegmentStatusFollower];

/** Membership's status of each segment, shown in the segments this service answers with. */
@Module({
  imports: [SegmentsModule],
  providers: [...repositories, SegmentStatusService, ...adapters],
})
export class SegmentStatusModule {}
