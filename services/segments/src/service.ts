import { listMembershipTopic, segmentDefinitionsTopic, segmentStatusTopic } from '@shoal/contracts';
import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import type { z } from 'zod';
import { version } from '../package.json';
import { AppModule } from './app.module';

/** Room left in a definitions record for what Shoal adds to a validated definition. */
export const DEFINITION_HEADROOM_BYTES = 16_384;

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
    RULE_MAX_LIST_VALUES: env.int(1000, 'most values in one in / notIn list of a rule', 1),
    RULE_MAX_OPERAND_LENGTH: env.int(
      2048,
      'longest string in a rule (compared value, event name, path, tag), in characters',
      1,
    ),
    SEGMENT_DEFINITION_MAX_BYTES: env.int(
      262_144,
      `largest definition of one segment as published (protobuf), in bytes; at most KAFKA_MAX_MESSAGE_BYTES − ${DEFINITION_HEADROOM_BYTES}`,
      1024,
    ),
    STATIC_LIST_MAX_MEMBERS: env.int(1_000_000, 'most members on one static list', 1),
  },
).superRefine((config, ctx) => {
  const room = config.KAFKA_MAX_MESSAGE_BYTES - DEFINITION_HEADROOM_BYTES;
  if (config.SEGMENT_DEFINITION_MAX_BYTES > room) {
    ctx.addIssue({
      code: 'custom',
      path: ['SEGMENT_DEFINITION_MAX_BYTES'],
      message: `must be at most KAFKA_MAX_MESSAGE_BYTES − ${DEFINITION_HEADROOM_BYTES} = ${room}: a definition also carries what Shoal adds after validation (versions, lock, state)`,
    });
  }
});

export type SegmentsConfig = z.output<typeof segmentsConfigSchema>;

/** Segments: segment definitions, their versions and history, static lists; answers SegmentService. */
export const segmentsService: ServiceDefinition = {
  name: 'segments',
  version,
  configSchema: segmentsConfigSchema,
  topics: [segmentDefinitionsTopic, listMembershipTopic, segmentStatusTopic],
  features: [AppModule],
};
