import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { type MembershipCommandSchema, membershipCommandsTopic } from '@shoal/contracts';
import { LOGGER, ProtobufTopicFollower, TopicNames } from '@shoal/platform';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { PartitionsService } from './partitions.service';

/** Every refresh and cancel command, for this instance's partitions (all instances read them all). */
@Injectable()
export class CommandsFollower extends ProtobufTopicFollower<typeof MembershipCommandSchema> {
  constructor(
    kafka: Kafka,
    names: TopicNames,
    @Inject(LOGGER) logger: Logger,
    partitions: PartitionsService,
  ) {
    super({
      kafka,
      names,
      topic: membershipCommandsTopic,
      name: 'membership-commands',
      logger,
      handle: (records) => {
        for (const { value, timestamp } of records) {
          const command = value?.command;
          if (command?.case === 'refresh') {
            partitions.refresh({
              jobId: command.value.jobId,
              segmentId: command.value.segmentId,
              requestedAt: timestamp,
              ...(command.value.startBefore
                ? { startBefore: timestampMs(command.value.startBefore) }
                : {}),
            });
          } else if (command?.case === 'cancel') {
            partitions.cancel(command.value.jobId);
          }
        }
      },
    });
  }
}
