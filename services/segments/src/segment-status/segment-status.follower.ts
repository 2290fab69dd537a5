import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  type SegmentEvaluationStatusSchema,
  segmentStatusKey,
  segmentStatusTopic,
} from '@shoal/contracts';
import {
  LOGGER,
  PLATFORM,
  type PlatformContext,
  ProtobufTopicFollower,
  TopicNames,
} from '@shoal/platform';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { SegmentStatusService } from './segment-status.service';

/**
 * Follows membership's compacted status topic (keyed "<segment id>/<partition>"). Every replica
 * reads it whole from the start, as the topic is small and applying a record twice changes
 * nothing; readiness waits until what was on it at start-up is applied.
 */
@Injectable()
export class SegmentStatusFollower
  extends ProtobufTopicFollower<typeof SegmentEvaluationStatusSchema>
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private started = false;

  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) logger: Logger,
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    statuses: SegmentStatusService,
  ) {
    super({
      kafka,
      names,
      topic: segmentStatusTopic,
      name: 'segments-status',
      logger,
      handle: (records) =>
        statuses.apply(
          records.flatMap((r) => {
            const at = segmentStatusKey.parse(r.key);
            if (at) return [{ ...at, status: r.value }];
            logger.error({ key: r.key, offset: r.offset }, 'segment status with an unknown key');
            return [];
          }),
        ),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.platform.readiness.register({
      name: 'segment-status',
      check: async () => {
        if (!this.started) throw new Error('reading segment status');
        return this.health();
      },
    });
    await this.start();
    this.started = true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
