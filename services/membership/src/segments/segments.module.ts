import { Module } from '@nestjs/common';
import { DefinitionsFollower } from './definitions.follower';
import { SegmentDefinitionsService } from './segment-definitions.service';

/** The segment definitions membership evaluates, followed from the definitions topic. */
@Module({
  providers: [SegmentDefinitionsService, DefinitionsFollower],
  exports: [SegmentDefinitionsService, DefinitionsFollower],
})
export class SegmentsModule {}
