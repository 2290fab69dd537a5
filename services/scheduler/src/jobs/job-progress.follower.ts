import { Inject, Injectable } from '@nestjs/common';
import { type RefreshProgressSchema, jobProgressTopic } from '@shoal/contracts';
import { LOGGER, ProtobufTopicFollower, TopicNames } from '@shoal/platform';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { JobsService } from './jobs.service';

/**
 * Membership's per-partition job progress. Read from the start of the topic's retention at
 * every start and applied again: a partition's final report is kept once, so nothing counts
 * twice, and a job that ended while the scheduler was down ends on recovery.
 */
@Injectable()
export class JobProgressFollower extends ProtobufTopicFollower<typeof RefreshProgressSchema> {
  constructor(kafka: Kafka, names: TopicNames, @Inject(LOGGER) logger: Logger, jobs: JobsService) {
    super({
      kafka,
      names,
      topic: jobProgressTopic,
      name: 'scheduler-job-progress',
      logger,
      handle: (records) => jobs.applyProgress(records.flatMap((r) => (r.value ? [r.value] : []))),
    });
  }
}
