import { Inject, Injectable } from '@nestjs/common';
import { type RefreshProgress, RefreshProgressSchema, jobProgressTopic } from '@shoal/contracts';
import { LOGGER, TopicFollower, TopicNames, decodeProtobuf } from '@shoal/platform';
import { Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { JobsService } from './jobs.service';

/**
 * Membership's per-partition job progress. Read from the start of the topic's retention at
 * every start and applied again: a partition's final report is kept once, so nothing counts
 * twice, and a job that ended while the scheduler was down ends on recovery.
 */
@Injectable()
export class JobProgressFollower {
  private readonly follower: TopicFollower;

  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    jobs: JobsService,
  ) {
    this.follower = new TopicFollower({
      kafka,
      names,
      topic: jobProgressTopic,
      name: 'scheduler-job-progress',
      logger,
      handle: async (messages) => jobs.applyProgress(messages.flatMap((m) => this.decode(m))),
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

  private decode(message: KafkaMessage): RefreshProgress[] {
    try {
      return [decodeProtobuf(RefreshProgressSchema, message)];
    } catch (error) {
      this.logger.error({ err: error, offset: message.offset }, 'undecodable job progress');
      return [];
    }
  }
}
