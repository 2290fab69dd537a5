import { Inject, Injectable } from '@nestjs/common';
import { SegmentEvaluationStatusSchema, segmentStatusTopic } from '@shoal/contracts';
import { LOGGER, TopicFollower, TopicNames, decodeProtobuf } from '@shoal/platform';
import { Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { MemberCounts, type StatusRecord } from './member-counts';

/** Follows membership's status topic (keyed "<segment id>/<partition>") into MemberCounts. */
@Injectable()
export class SegmentStatusFollower {
  private readonly follower: TopicFollower;

  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    counts: MemberCounts,
  ) {
    this.follower = new TopicFollower({
      kafka,
      names,
      topic: segmentStatusTopic,
      name: 'scheduler-status',
      logger,
      handle: async (messages) => counts.apply(messages.flatMap((m) => this.decode(m))),
    });
  }

  health(): string {
    return this.follower.health();
  }

  start(): Promise<void> {
    return this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  private decode(message: KafkaMessage): StatusRecord[] {
    const key = message.key?.toString() ?? '';
    const slash = key.lastIndexOf('/');
    const partition = Number(key.slice(slash + 1));
    if (slash <= 0 || !Number.isInteger(partition) || partition < 0) return [];
    const segmentId = key.slice(0, slash);
    if (message.value === null) return [{ segmentId, partition, status: null }];
    try {
      return [
        { segmentId, partition, status: decodeProtobuf(SegmentEvaluationStatusSchema, message) },
      ];
    } catch (error) {
      this.logger.error({ err: error, key, offset: message.offset }, 'undecodable segment status');
      return [];
    }
  }
}
