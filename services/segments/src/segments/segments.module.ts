import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import type { SegmentsConfig } from '../service';
import { DefinitionsRelay } from './definitions.relay';
import { SegmentHistoryService } from './segment-history.service';
import { SEGMENT_LIMITS, limitsFromConfig } from './segment-limits';
import { SegmentRulesService } from './segment-rules.service';
import { SegmentUsagesService } from './segment-usages.service';
import { SEGMENT_CHANGES, SegmentVersions } from './segment-versions.service';
import { SegmentsGrpc } from './segments.grpc';
import { MongoSegmentRepository } from './segments.mongo-repository';
import { SEGMENT_REPOSITORY } from './segments.repository.port';
import { SegmentsService } from './segments.service';

const configuration = [
  {
    provide: SEGMENT_LIMITS,
    useFactory: (config: SegmentsConfig) => limitsFromConfig(config),
    inject: [CONFIG],
  },
];
const repositories = [{ provide: SEGMENT_REPOSITORY, useClass: MongoSegmentRepository }];
const relays = [DefinitionsRelay, { provide: SEGMENT_CHANGES, useExisting: DefinitionsRelay }];
export const SEGMENT_USE_CASES = [
  SegmentsService,
  SegmentVersions,
  SegmentRulesService,
  SegmentUsagesService,
  SegmentHistoryService,
];

/**
 * Segment definitions: their life, versions and history, rule checks, usages and locks, and
 * publishing them. Other features use segments through SegmentsService and the limits.
 */
@Module({
  providers: [...configuration, ...repositories, ...relays, ...SEGMENT_USE_CASES, SegmentsGrpc],
  exports: [SegmentsService, SEGMENT_LIMITS, SegmentsGrpc],
})
export class SegmentsModule {}
