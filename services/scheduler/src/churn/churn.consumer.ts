import {
  type MembershipTransition,
  MembershipTransitionSchema,
  membershipChangesTopic,
  schedulerDeadLetterTopic,
} from '@shoal/contracts';
import {
  type ConsumedRecord,
  TopicConsumer,
  type TopicHandler,
  decodeProtobuf,
} from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { ChurnService } from './churn.service';

/**
 * Membership's transitions → per-(segment, day) churn counters. A committed consumer group:
 * offsets are committed once a batch is counted; what is delivered again after a crash is
 * recognised by the counters' offset marks. Undecodable records go to shoal.scheduler.dlq.
 */
@TopicConsumer({
  topic: { ...membershipChangesTopic, deadLetter: schedulerDeadLetterTopic },
  groupId: 'scheduler-churn',
  maxBatchSize: 5_000,
  partitionsConsumedConcurrently: 4,
})
export class ChurnConsumer implements TopicHandler<MembershipTransition> {
  constructor(private readonly churn: ChurnService) {}

  decode(message: KafkaMessage): MembershipTransition {
    return decodeProtobuf(MembershipTransitionSchema, message);
  }

  async handleBatch(records: readonly ConsumedRecord<MembershipTransition>[]): Promise<void> {
    await this.churn.count(
      records.map((r) => ({
        partition: r.partition,
        offset: Number(r.offset),
        transition: r.value,
      })),
    );
  }
}
