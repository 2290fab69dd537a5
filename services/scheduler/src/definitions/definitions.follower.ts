import { Inject, Injectable } from '@nestjs/common';
import { type SegmentSchema, segmentDefinitionsTopic } from '@shoal/contracts';
import { LOGGER, ProtobufTopicFollower, TopicNames } from '@shoal/platform';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { SegmentCatalogue } from './segment-catalogue';

/**
 * Reads every segment definition at start-up, then follows the definitions topic; the catalogue
 * asks it to read to the topic's end when a question names a segment it does not know.
 */
@Injectable()
export class DefinitionsFollower extends ProtobufTopicFollower<typeof SegmentSchema> {
  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) logger: Logger,
    catalogue: SegmentCatalogue,
  ) {
    super({
      kafka,
      names,
      topic: segmentDefinitionsTopic,
      name: 'scheduler-definitions',
      logger,
      handle: (records) =>
        catalogue.apply(records.map((r) => ({ segmentId: r.key, definition: r.value }))),
    });
    catalogue.readsFrom(this);
  }
}
