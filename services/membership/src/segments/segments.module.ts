import { Module } from '@nestjs/common';
import { DEFINITIONS_CATCH_UP, DefinitionsFollower } from './definitions.follower';
import { SegmentDefinitionsService } from './segment-definitions.service';

/** The segment definitions membership evaluates, followed from the definitions topic. */
@Module({
  providers: [
    SegmentDefinitionsService,
    DefinitionsFollower,
    { provide: DEFINITIONS_CATCH_UP, useExisting: DefinitionsFollower },
  ],
  exports: [SegmentDefinitionsService, DefinitionsFollower, DEFINITIONS_CATCH_UP],
})
export class SegmentsModule {}
