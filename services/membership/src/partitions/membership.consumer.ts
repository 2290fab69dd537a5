import { Inject, Injectable } from '@nestjs/common';
import {
  ListMembershipChangedSchema,
  ProfileChangeSchema,
  type TopicSpec,
  listMembershipTopic,
  membershipChangesTopic,
  membershipContactsTopic,
  membershipDeadLetterTopic,
  profileChangesTopic,
} from '@shoal/contracts';
import {
  type DeadLetter,
  DomainError,
  EventPublisher,
  PLATFORM,
  PartitionedProcessor,
  type PartitionWork,
  type PlatformContext,
  TopicNames,
  deadLetterRecord,
  inSendsOf,
  decodeProtobuf,
} from '@shoal/platform';
import { Kafka, type KafkaMessage } from 'kafkajs';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { ContactMessage } from '../evaluation/contacts';
import type { InputRecord } from './partition-runtime';
import { type PartitionControl, PartitionsService } from './partitions.service';

/**
 * The membership consumer group over the co-partitioned per-profile topics: decodes records
 * (what can never be decoded is dead-lettered) and hands them to the partitions service; gives
 * the service its lanes and offset commits.
 */
@Injectable()
export class MembershipConsumer implements PartitionWork {
  private readonly processor: PartitionedProcessor;

  constructor(
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
    private readonly publisher: EventPublisher,
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    private readonly partitions: PartitionsService,
  ) {
    this.processor = new PartitionedProcessor({
      kafka,
      names,
      groupId: 'membership',
      topics: [profileChangesTopic, listMembershipTopic, membershipContactsTopic],
      work: this,
      logger: platform.logger.child({ consumer: 'membership' }),
      metrics: platform.metrics,
      clock: platform.clock,
      onStuck: (reason) => platform.readiness.markBroken(reason),
    });
  }

  health(): string {
    return this.processor.health();
  }

  /** Checks that the per-profile topics are co-partitioned, then starts consuming. */
  async start(): Promise<void> {
    const count = await this.partitionCount();
    const processor = this.processor;
    const control: PartitionControl = {
      inLane: (partition, task) => processor.inLane(partition, task),
      commit: (partition, next) =>
        processor.commit(
          partition,
          new Map<TopicSpec, number>([
            [profileChangesTopic, next.changes],
            [listMembershipTopic, next.lists],
            [membershipContactsTopic, next.contacts],
          ]),
        ),
      get settled() {
        return processor.settled;
      },
    };
    this.partitions.start(control, count);
    await this.processor.start();
  }

  /** Stops fetching, takes the last checkpoints, commits, and leaves the group. */
  async stop(): Promise<void> {
    this.processor.pause();
    await this.partitions.stop();
    await this.processor.stop();
  }

  assign(partitions: readonly number[]): Promise<void> {
    return this.partitions.assign(partitions);
  }

  revoke(partitions: readonly number[]): Promise<void> {
    return this.partitions.revoke(partitions);
  }

  async process({
    topic,
    partition,
    messages,
  }: {
    topic: string;
    partition: number;
    messages: KafkaMessage[];
  }): Promise<void> {
    const letters: DeadLetter[] = [];
    if (topic === this.names.of(profileChangesTopic)) {
      const records = this.decode(ProfileChangeSchema, partition, messages, letters);
      await this.partitions.processChanges(partition, records);
    } else if (topic === this.names.of(membershipContactsTopic)) {
      const records = this.decodeWith(contactMessageOf, partition, messages, letters);
      await this.partitions.processContacts(partition, records);
    } else {
      const records = this.decode(ListMembershipChangedSchema, partition, messages, letters);
      await this.partitions.processListChanges(partition, records);
    }
    if (letters.length === 0) return;
    const limit = this.platform.config.KAFKA_MAX_MESSAGE_BYTES;
    const source = { topic, at: this.platform.clock.now() };
    const records = letters.map((letter) => deadLetterRecord(letter, source, limit));
    for (const send of inSendsOf(records, limit)) {
      await this.publisher.publishRaw(membershipDeadLetterTopic, send);
    }
    for (const letter of letters) {
      this.platform.logger.warn(
        {
          topic,
          partition,
          offset: letter.message.offset,
          reason: letter.reason,
          error: letter.error,
        },
        'record dead-lettered',
      );
    }
  }

  private decode<D extends DescMessage>(
    schema: D,
    partition: number,
    messages: readonly KafkaMessage[],
    letters: DeadLetter[],
  ): InputRecord<MessageShape<D>>[] {
    return this.decodeWith(
      (message) => decodeProtobuf(schema, message),
      partition,
      messages,
      letters,
    );
  }

  private decodeWith<T>(
    decode: (message: KafkaMessage) => T,
    partition: number,
    messages: readonly KafkaMessage[],
    letters: DeadLetter[],
  ): InputRecord<T>[] {
    const reject = (message: KafkaMessage) => (reason: string, error: string) =>
      letters.push({ message, partition, reason, error });
    return messages.flatMap((message) => {
      try {
        return [
          {
            offset: Number(message.offset),
            timestamp: Number(message.timestamp),
            value: decode(message),
            reject: reject(message),
          },
        ];
      } catch (error) {
        const reason = error instanceof DomainError ? error.reason : 'UNDECODABLE';
        reject(message)(reason, (error as Error).message);
        return [];
      }
    });
  }

  /** The partition count the co-partitioned topics share; refuses to run when they differ. */
  private async partitionCount(): Promise<number> {
    const topics = [
      profileChangesTopic,
      listMembershipTopic,
      membershipChangesTopic,
      membershipContactsTopic,
    ];
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({
        topics: topics.map((topic) => this.names.of(topic)),
      });
      const counts = metadata.topics.map((t) => `${t.name}: ${t.partitions.length}`);
      const distinct = new Set(metadata.topics.map((t) => t.partitions.length));
      if (distinct.size !== 1)
        throw new Error(
          `the per-profile topics must have the same partition count (co-partitioned): ${counts.join(', ')}`,
        );
      return [...distinct][0] as number;
    } finally {
      await admin.disconnect();
    }
  }
}

/** A record of the internal contacts topic (JSON written by this service). */
function contactMessageOf(message: KafkaMessage): ContactMessage {
  const value =
    message.value === null ? undefined : (JSON.parse(message.value.toString()) as unknown);
  const kind = (value as { kind?: unknown } | undefined)?.kind;
  if (kind !== 'contact' && kind !== 'settled') throw new Error('value is not a contact record');
  return value as ContactMessage;
}
