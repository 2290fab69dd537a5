import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { TopicSpec } from '@shoal/contracts';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { decodeProtobuf } from './records';
import { type TopicCatchUp, TopicFollower } from './topic-follower';
import type { TopicNames } from './topics';

/** A record of a followed protobuf topic, decoded. */
export interface FollowedRecord<T> {
  /** The record key as text ('' when it has none). */
  readonly key: string;
  /** The decoded value; null for a tombstone. */
  readonly value: T | null;
  /** The record's timestamp, in ms since the epoch. */
  readonly timestamp: number;
  readonly offset: string;
}

/**
 * A TopicFollower of a topic of protobuf records: every instance reads it whole, then follows it
 * (see TopicFollower). Records arrive decoded, tombstones as null values; a record no one can
 * decode is logged and skipped, never a stalled follower. Nest providers extend it with their
 * topic and what they do with the records.
 */
export class ProtobufTopicFollower<D extends DescMessage> implements TopicCatchUp {
  private readonly follower: TopicFollower;

  constructor(options: {
    readonly kafka: Kafka;
    readonly names: TopicNames;
    readonly topic: TopicSpec<D>;
    /** Names the private group (a random suffix is added). */
    readonly name: string;
    readonly logger: Logger;
    /** Handles the decoded records of one partition in order; an error stops the follower. */
    readonly handle: (
      records: FollowedRecord<MessageShape<D>>[],
      partition: number,
    ) => Promise<void> | void;
  }) {
    const { topic, logger, handle } = options;
    const schema = topic.payload as D;
    const decoded = (message: KafkaMessage): FollowedRecord<MessageShape<D>>[] => {
      const key = message.key?.toString() ?? '';
      const at = { key, timestamp: Number(message.timestamp), offset: message.offset };
      if (message.value === null) return [{ ...at, value: null }];
      try {
        return [{ ...at, value: decodeProtobuf(schema, message) }];
      } catch (error) {
        logger.error(
          { err: error, topic: topic.name, key, offset: message.offset },
          'undecodable record skipped',
        );
        return [];
      }
    };
    this.follower = new TopicFollower({
      ...options,
      handle: async (messages, partition) => handle(messages.flatMap(decoded), partition),
    });
  }

  health(): string {
    return this.follower.health();
  }

  /** Resolves once the records that were on the topic at start-up have been handled. */
  start(): Promise<void> {
    return this.follower.start();
  }

  /**
   * Resolves true once every record that was on the topic when it was called has been handled,
   * false after `timeoutMs` or when the topic's ends cannot be read (TopicFollower.readToEnd).
   */
  readToEnd(timeoutMs: number): Promise<boolean> {
    return this.follower.readToEnd(timeoutMs);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
