import { Inject, Injectable } from '@nestjs/common';
import {
  type SegmentEvaluationStatusSchema,
  segmentStatusKey,
  segmentStatusTopic,
} from '@shoal/contracts';
import { LOGGER, ProtobufTopicFollower, TopicNames } from '@shoal/platform';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { MemberCounts } from './member-counts';

/** Follows membership's status topic (keyed "<segment id>/<partition>") into MemberCounts. */
@Injectable()
export class SegmentStatusFollower extends ProtobufTopicFollower<
  typeof SegmentEvaluationStatusSchema
> {
  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) logger: Logger,
    counts: MemberCounts,
  ) {
    super({
      kafka,
      names,
      topic: segmentStatusTopic,
      name: 'scheduler-status',
      logger,
      handle: (records) =>
        counts.apply(
          records.flatMap((r) => {
            const at = segmentStatusKey.parse(r.key);
            return at ? [{ ...at, status: r.value }] : [];
          }),
        ),
    });
  }
}
