import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SegmentSchema, segmentDefinitionsTopic } from '@shoal/contracts';
import {
  LOGGER,
  PLATFORM,
  type PlatformContext,
  TopicFollower,
  TopicNames,
  decodeProtobuf,
} from '@shoal/platform';
import { Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { type DefinitionRecord, SegmentDefinitions } from './segment-definitions';

/** Reads every segment definition at start-up, then follows the definitions topic. */
@Injectable()
export class DefinitionsFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly follower: TopicFollower;

  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    definitions: SegmentDefinitions,
  ) {
    this.follower = new TopicFollower({
      kafka,
      names,
      topic: segmentDefinitionsTopic,
      name: 'exporter-definitions',
      logger,
      handle: async (messages) => definitions.apply(messages.flatMap((m) => this.decode(m))),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.platform.readiness.register({
      name: 'definitions',
      check: async () => this.follower.health(),
    });
    await this.follower.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }

  private decode(message: KafkaMessage): DefinitionRecord[] {
    const segmentId = message.key?.toString() ?? '';
    if (message.value === null) return [{ segmentId, definition: null }];
    try {
      return [{ segmentId, definition: decodeProtobuf(SegmentSchema, message) }];
    } catch (error) {
      // a definition no one can read is skipped (and shouted about), never a stalled topic
      this.logger.error(
        { err: error, segmentId, offset: message.offset },
        'undecodable definition',
      );
      return [];
    }
  }
}
