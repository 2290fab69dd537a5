import { Module } from '@nestjs/common';
import { DefinitionsFollower } from './definitions.follower';
import { SegmentAccessService } from './segment-access.service';
import { SegmentDefinitions } from './segment-definitions';

/** The segment definitions the exporter follows, and who may export or link which. */
@Module({
  providers: [SegmentDefinitions, DefinitionsFollower, SegmentAccessService],
  exports: [SegmentAccessService, SegmentDefinitions],
})
export class SegmentsModule {}
