import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type SegmentSchema, segmentDefinitionsTopic } from '@shoal/contracts';
import {
  LOGGER,
  PLATFORM,
  type PlatformContext,
  ProtobufTopicFollower,
  TopicNames,
} from '@shoal/platform';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { SegmentDefinitions } from './segment-definitions';

/**
 * Reads every segment definition at start-up, then follows the definitions topic; a question
 * naming a segment not read yet has it read to the topic's end first.
 */
@Injectable()
export class DefinitionsFollower
  extends ProtobufTopicFollower<typeof SegmentSchema>
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) logger: Logger,
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    definitions: SegmentDefinitions,
  ) {
    super({
      kafka,
      names,
      topic: segmentDefinitionsTopic,
      name: 'exporter-definitions',
      logger,
      handle: (records) =>
        definitions.apply(records.map((r) => ({ segmentId: r.key, definition: r.value }))),
    });
    definitions.readsFrom(this);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.platform.readiness.register({ name: 'definitions', check: async () => this.health() });
    await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
