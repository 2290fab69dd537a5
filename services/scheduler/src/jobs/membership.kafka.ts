import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import {
  MembershipCommandSchema,
  membershipCommandsTopic,
  profileChangesTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { EventPublisher, TopicNames } from '@shoal/platform';
import { Kafka } from 'kafkajs';
import { consumerLag } from './consumer-lag';
import type { MembershipPort } from './membership.port';

/** Membership over Kafka: commands on its commands topic; partitions and lag from the broker. */
@Injectable()
export class KafkaMembership implements MembershipPort {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
  ) {}

  async refresh({
    jobId,
    segmentId,
    requestedBy,
    requestedAtMs,
    startBeforeMs,
  }: Parameters<MembershipPort['refresh']>[0]) {
    await this.publisher.publish(membershipCommandsTopic, [
      {
        key: segmentId,
        value: create(MembershipCommandSchema, {
          command: {
            case: 'refresh',
            value: {
              jobId,
              segmentId,
              requestedBy,
              requestedAt: timestampFromMs(requestedAtMs),
              startBefore: timestampFromMs(startBeforeMs),
            },
          },
        }),
      },
    ]);
  }

  async cancel({ jobId, segmentId }: Parameters<MembershipPort['cancel']>[0]) {
    await this.publisher.publish(membershipCommandsTopic, [
      {
        key: segmentId,
        value: create(MembershipCommandSchema, {
          command: { case: 'cancel', value: { jobId, segmentId } },
        }),
      },
    ]);
  }

  async partitionCount(): Promise<number> {
    return this.withAdmin(async (admin) => {
      const topic = this.names.of(profileChangesTopic);
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0]?.partitions.length ?? 0;
    });
  }

  async upstreamLag(): Promise<number> {
    return this.withAdmin(async (admin) => {
      // only topics that exist: kafkajs keeps asking for a missing one, failing every call
      const existing = new Set(await admin.listTopics());
      let lag = 0;
      for (const [group, topic] of [
        ['ingestion', upstreamEventsTopic],
        ['membership', profileChangesTopic],
      ] as const) {
        const name = this.names.of(topic);
        if (existing.has(name))
          lag += (await consumerLag(admin, this.names.group(group), name)).lag;
      }
      return lag;
    });
  }

  private async withAdmin<T>(work: (admin: ReturnType<Kafka['admin']>) => Promise<T>) {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }
}
