import { Injectable } from '@nestjs/common';
import {
  exporterDeadLetterTopic,
  type MembershipTransition,
  MembershipTransitionSchema,
  membershipChangesTopic,
} from '@shoal/contracts';
import {
  type ConsumedRecord,
  type TopicHandler,
  TopicConsumer,
  decodeProtobuf,
} from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { SyncService } from './sync.service';

/** The transitions topic as the exporter reads it: what it cannot decode goes to its own DLQ. */
const TRANSITIONS = { ...membershipChangesTopic, deadLetter: exporterDeadLetterTopic };

/**
 * Membership transitions into the destinations' queues. The batch's offsets are committed only
 * once its records are queued in the store, so a restart skips no transition; one queued twice
 * is the same queue entry (its id holds the transition's deterministic id).
 */
@Injectable()
@TopicConsumer({ topic: TRANSITIONS, groupId: 'exporter' })
export class TransitionsConsumer implements TopicHandler<MembershipTransition> {
  constructor(private readonly sync: SyncService) {}

  decode(message: KafkaMessage): MembershipTransition {
    return decodeProtobuf(MembershipTransitionSchema, message);
  }

  async handleBatch(records: readonly ConsumedRecord<MembershipTransition>[]): Promise<void> {
    await this.sync.enqueue(
      records.map((r) => ({
        transition: r.value,
        partition: r.partition,
        offset: Number(r.offset),
      })),
    );
  }
}
