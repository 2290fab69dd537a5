import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SegmentEvaluationStatusSchema, segmentStatusTopic } from '@shoal/contracts';
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
import { type SegmentStatusRecord, SegmentStatusService } from './segment-status.service';

/**
 * Follows membership's compacted status topic (keyed "<segment id>/<partition>"). Every replica
 * reads it whole from the start, as the topic is small and applying a record twice changes
 * nothing; readiness waits until what was on it at start-up is applied.
 */
@Injectable()
export class SegmentStatusFollower implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly follower: TopicFollower;
  private started = false;

  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    private readonly statuses: SegmentStatusService,
  ) {
    this.follower = new TopicFollower({
      kafka,
      names,
      topic: segmentStatusTopic,
      name: 'segments-status',
      logger,
      handle: async (messages) => this.statuses.apply(messages.flatMap((m) => this.decode(m))),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.platform.readiness.register({
      name: 'segment-status',
      check: async () => {
        if (!this.started) throw new Error('reading segment status');
        return this.follower.health();
      },
    });
    await this.follower.start();
    this.started = true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }

  private decode(message: KafkaMessage): SegmentStatusRecord[] {
    const key = message.key?.toString() ?? '';
    const slash = key.lastIndexOf('/');
    const segmentId = key.slice(0, slash);
    const partition = Number(key.slice(slash + 1));
    if (slash <= 0 || !Number.isInteger(partition) || partition < 0) {
      this.logger.error({ key, offset: message.offset }, 'segment status with an unknown key');
      return [];
    }
    if (message.value === null) return [{ segmentId, partition, status: null }];
    try {
      return [
        { segmentId, partition, status: decodeProtobuf(SegmentEvaluationStatusSchema, message) },
      ];
    } catch (error) {
      // a status no one can read is skipped (and shouted about), never a stalled topic
      this.logger.error({ err: error, key, offset: message.offset }, 'undecodable segment status');
      return [];
    }
  }
}
