import { Module } from '@nestjs/common';
import { DefinitionsFollower } from './definitions.follower';
import { SegmentCatalogue } from './segment-catalogue';

/** The segment definitions, followed from the definitions topic. */
@Module({
  providers: [SegmentCatalogue, DefinitionsFollower],
  exports: [SegmentCatalogue, DefinitionsFollower],
})
export class DefinitionsModule {}
