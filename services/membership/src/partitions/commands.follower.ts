import { Inject, Injectable } from '@nestjs/common';
import { MembershipCommandSchema, membershipCommandsTopic } from '@shoal/contracts';
import { LOGGER, TopicFollower, TopicNames, decodeProtobuf } from '@shoal/platform';
import { Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { PartitionsService } from './partitions.service';

/** Every refresh and cancel command, for this instance's partitions (all instances read them all). */
@Injectable()
export class CommandsFollower {
  private readonly follower: TopicFollower;

  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly partitions: PartitionsService,
  ) {
    this.follower = new TopicFollower({
      kafka,
      names,
      topic: membershipCommandsTopic,
      name: 'membership-commands',
      logger,
      handle: async (messages) => {
        for (const message of messages) this.handle(message);
      },
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

  private handle(message: KafkaMessage): void {
    try {
      const { command } = decodeProtobuf(MembershipCommandSchema, message);
      if (command.case === 'refresh') {
        this.partitions.refresh({
          jobId: command.value.jobId,
          segmentId: command.value.segmentId,
          requestedAt: Number(message.timestamp),
        });
      } else if (command.case === 'cancel') {
        this.partitions.cancel(command.value.jobId);
      }
    } catch (error) {
      this.logger.error({ err: error, offset: message.offset }, 'undecodable membership command');
    }
  }
}
