import { Inject, Injectable } from '@nestjs/common';
import { SegmentSchema, segmentDefinitionsTopic } from '@shoal/contracts';
import { LOGGER, TopicFollower, TopicNames, decodeProtobuf } from '@shoal/platform';
import { Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { type DefinitionRecord, SegmentCatalogue } from './segment-catalogue';

/** Reads every segment definition at start-up, then follows the definitions topic. */
@Injectable()
export class DefinitionsFollower {
  private readonly follower: TopicFollower;

  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    catalogue: SegmentCatalogue,
  ) {
    this.follower = new TopicFollower({
      kafka,
      names,
      topic: segmentDefinitionsTopic,
      name: 'scheduler-definitions',
      logger,
      handle: async (messages) => catalogue.apply(messages.flatMap((m) => this.decode(m))),
    });
  }

  health(): string {
    return this.follower.health();
  }

  /** Resolves once the definitions that existed at start-up are known. */
  start(): Promise<void> {
    return this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  private decode(message: KafkaMessage): DefinitionRecord[] {
    const segmentId = message.key?.toString() ?? '';
    if (message.value === null) return [{ segmentId, definition: null }];
    try {
      return [{ segmentId, definition: decodeProtobuf(SegmentSchema, message) }];
    } catch (error) {
      this.logger.error(
        { err: error, segmentId, offset: message.offset },
        'undecodable definition',
      );
      return [];
    }
  }
}
