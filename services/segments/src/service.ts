import { listMembershipTopic, segmentDefinitionsTopic } from '@shoal/contracts';
import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import type { z } from 'zod';
import { version } from '../package.json';
import { SegmentsModule } from './segments/segments.module';

export const segmentsConfigSchema = serviceConfigSchema(
  { service: 'segments', grpcPort: 50052, httpPort: 9452 },
  {
    SEGMENTS_PER_OWNER_MAX: env.int(500, 'most segments and static lists one owner may have', 1),
    SEGMENT_NAME_MAX_LENGTH: env.int(200, 'longest segment name, in characters', 1),
    SEGMENT_DESCRIPTION_MAX_LENGTH: env.int(2000, 'longest segment description, in characters', 0),
    SEGMENT_TAGS_MAX: env.int(20, 'most tags on one segment', 0),
    RULE_MAX_CONDITIONS: env.int(100, 'most conditions (groups and tests) in one rule', 1),
    RULE_MAX_DEPTH: env.int(8, 'deepest nesting of condition groups in one rule', 1),
    RULE_MAX_SEQUENCE_STEPS: env.int(8, 'most steps in one sequence condition', 1),
    RULE_MAX_HISTORY_DAYS: env.int(
      800,
      'event history kept, in days; rules whose windows reach further back are refused',
      1,
    ),
    STATIC_LIST_MAX_MEMBERS: env.int(1_000_000, 'most members on one static list', 1),
  },
);

export type SegmentsConfig = z.output<typeof segmentsConfigSchema>;

/** Segments: segment definitions, their versions and history, static lists; answers SegmentService. */
export const segmentsService: ServiceDefinition = {
  name: 'segments',
  version,
  configSchema: segmentsConfigSchema,
  topics: [segmentDefinitionsTopic, listMembershipTopic],
  features: [SegmentsModule],
};
