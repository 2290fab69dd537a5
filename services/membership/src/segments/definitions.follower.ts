import { Inject, Injectable } from '@nestjs/common';
import { type SegmentSchema, segmentDefinitionsTopic } from '@shoal/contracts';
import { LOGGER, ProtobufTopicFollower, TopicNames } from '@shoal/platform';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { SegmentDefinitionsService } from './segment-definitions.service';

/**
 * The definitions follower as the queries see it: a question naming a segment membership does
 * not know reads the topic to its end first, so a segment published before it is found.
 */
export const DEFINITIONS_CATCH_UP = Symbol('DEFINITIONS_CATCH_UP');

/** Reads every segment definition at start-up, then follows the definitions topic. */
@Injectable()
export class DefinitionsFollower extends ProtobufTopicFollower<typeof SegmentSchema> {
  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) logger: Logger,
    definitions: SegmentDefinitionsService,
  ) {
    super({
      kafka,
      names,
      topic: segmentDefinitionsTopic,
      name: 'membership-definitions',
      logger,
      handle: (records) =>
        definitions.apply(records.map((r) => ({ segmentId: r.key, definition: r.value }))),
    });
  }
}
