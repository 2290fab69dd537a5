import { create } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  CloudEventHeaders,
  CloudEventTypes,
  KafkaHeaders,
  type MembershipTransition,
  MembershipTransitionSchema,
  RefreshProgressSchema,
  SegmentEvaluationStatusSchema,
  TransitionKind,
  type TopicSpec,
  jobProgressTopic,
  listMembershipTopic,
  membershipChangesTopic,
  membershipContactsTopic,
  membershipDeadLetterTopic,
  profileChangesTopic,
  segmentStatusKey,
  segmentStatusTopic,
} from '@shoal/contracts';
import {
  EventPublisher,
  LOGGER,
  PLATFORM,
  type PlatformContext,
  TopicNames,
  deadLetterRecord,
  decodeProtobuf,
  headersOf,
  inSendsOf,
  readPartitionRanges,
  recordBytes,
} from '@shoal/platform';
import { type Admin, Kafka, type Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { ContactMessage, ContactOutput } from '../evaluation/contacts';
import type { PublishedTransition, Transition } from '../evaluation/transition';
import type { MembershipEvents, RefreshReport } from './membership-events.port';
import type { PartitionStatus } from './partition-store.repository.port';

/** Records per send (each record is a few hundred bytes with its headers). */
const SEND_SLICE = 500;
/** Bytes of contact records per send, well under the broker's default maximum message size. */
const SEND_BYTES = 256 * 1024;

/** Membership's Kafka side: transitions as CloudEvents, status, progress, and reading back. */
@Injectable()
export class KafkaMembershipEvents implements MembershipEvents, OnApplicationShutdown {
  private admin?: Promise<Admin>;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(PLATFORM) private readonly platform: PlatformContext,
  ) {}

  async publishTransitions(transitions: readonly Transition[]): Promise<void> {
    // a refresh or a new segment can decide thousands at once: one send per slice keeps every
    // record batch well under the broker's maximum message size
    for (let start = 0; start < transitions.length; start += SEND_SLICE) {
      await this.publishSlice(transitions.slice(start, start + SEND_SLICE));
    }
  }

  private async publishSlice(transitions: readonly Transition[]): Promise<void> {
    await this.publisher.publish(
      membershipChangesTopic,
      transitions.map((t) => ({
        key: t.profileId,
        value: create(MembershipTransitionSchema, {
          id: t.id,
          kind: t.kind === 'entered' ? TransitionKind.ENTERED : TransitionKind.EXITED,
          segmentId: t.segmentId,
          segmentVersion: BigInt(t.segmentVersion),
          profileId: t.profileId,
          occurredAt: timestampFromMs(t.at),
          cause: t.cause,
          sequence: BigInt(t.sequence),
        }),
        headers: {
          [CloudEventHeaders.specversion]: '1.0',
          [CloudEventHeaders.type]:
            t.kind === 'entered' ? CloudEventTypes.entered : CloudEventTypes.exited,
          [CloudEventHeaders.id]: t.id,
          [CloudEventHeaders.source]: `/shoal/segments/${t.segmentId}`,
          [CloudEventHeaders.subject]: t.profileId,
          [CloudEventHeaders.time]: new Date(t.at).toISOString(),
          [KafkaHeaders.membershipIncarnation]: t.incarnation,
        },
      })),
    );
  }

  async publishContacts(
    outputs: readonly ContactOutput[],
    { partition, partitionCount }: { partition: number; partitionCount: number },
  ): Promise<void> {
    const messages = outputs.flatMap(
      (output): { key?: string; partition?: number; value: Buffer }[] => {
        if (output.kind === 'contact')
          return [{ key: output.accountId, value: Buffer.from(JSON.stringify(output)) }];
        const marker: ContactMessage = { ...output, partition, partitionCount };
        const value = Buffer.from(JSON.stringify(marker));
        return Array.from({ length: partitionCount }, (_, to) => ({ partition: to, value }));
      },
    );
    // a contact state larger than the broker accepts could never be sent: retrying it would
    // stall the partition, so it is dead-lettered and the account keeps its previous view
    const limit = this.platform.config.KAFKA_MAX_MESSAGE_BYTES;
    const oversized = messages.filter((message) => recordBytes(message) > limit);
    if (oversized.length > 0) await this.deadLetterContacts(oversized, partition, limit);
    // contact states vary in size: sends are bounded by bytes as well as by count
    let send: typeof messages = [];
    let bytes = 0;
    for (const message of messages) {
      if (oversized.includes(message)) continue;
      if (
        send.length > 0 &&
        (send.length >= SEND_SLICE || bytes + message.value.length > Math.min(SEND_BYTES, limit))
      ) {
        await this.publisher.publishRaw(membershipContactsTopic, send);
        send = [];
        bytes = 0;
      }
      send.push(message);
      bytes += message.value.length;
    }
    if (send.length > 0) await this.publisher.publishRaw(membershipContactsTopic, send);
  }

  private async deadLetterContacts(
    messages: readonly Message[],
    partition: number,
    limit: number,
  ): Promise<void> {
    const at = this.platform.clock.now();
    const source = { topic: this.names.of(membershipContactsTopic), at };
    const letters = messages.map((message) => {
      const error = `contact record of ${recordBytes(message)} bytes exceeds KAFKA_MAX_MESSAGE_BYTES ${limit}`;
      this.logger.warn(
        { account: String(message.key), partition, reason: 'CONTACT_TOO_LARGE', error },
        'contact record dead-lettered; the account keeps its previous view of this contact',
      );
      return deadLetterRecord(
        {
          message: {
            key:
              message.key === undefined || message.key === null ? null : Buffer.from(message.key),
            value: message.value as Buffer,
            headers: {},
            timestamp: String(at.getTime()),
            attributes: 0,
            offset: '-1',
          },
          partition,
          reason: 'CONTACT_TOO_LARGE',
          error,
        },
        source,
        limit,
      );
    });
    for (const send of inSendsOf(letters, limit)) {
      await this.publisher.publishRaw(membershipDeadLetterTopic, send);
    }
  }

  async publishStatuses(
    statuses: readonly PartitionStatus[],
    removed: readonly { segmentId: string; partition: number }[],
  ): Promise<void> {
    for (let start = 0; start < statuses.length; start += SEND_SLICE) {
      await this.publishStatusSlice(statuses.slice(start, start + SEND_SLICE), []);
    }
    if (removed.length > 0) await this.publishStatusSlice([], removed);
  }

  private async publishStatusSlice(
    statuses: readonly PartitionStatus[],
    removed: readonly { segmentId: string; partition: number }[],
  ): Promise<void> {
    await this.publisher.publish(segmentStatusTopic, [
      ...statuses.map((s) => ({
        key: segmentStatusKey.of(s.segmentId, s.partition),
        value: create(SegmentEvaluationStatusSchema, {
          segmentId: s.segmentId,
          segmentVersion: BigInt(s.version),
          partition: s.partition,
          partitionCount: s.partitionCount,
          state: s.state,
          memberCount: BigInt(s.memberCount),
          valueTrait: s.valueTrait,
          ...(s.valueSum === undefined ? {} : { valueSum: s.valueSum }),
          valuedMemberCount: BigInt(s.valuedMemberCount),
          lastEvaluatedAt:
            s.lastEvaluatedAt === undefined ? undefined : timestampFromMs(s.lastEvaluatedAt),
          lastRefreshedAt:
            s.lastRefreshedAt === undefined ? undefined : timestampFromMs(s.lastRefreshedAt),
          lagMs: BigInt(s.lagMs),
          lastError: s.lastError,
          notes: [...s.notes],
          reportedAt: timestampFromMs(s.reportedAt),
        }),
      })),
      ...removed.map(({ segmentId, partition }) => ({
        key: segmentStatusKey.of(segmentId, partition),
        value: null,
      })),
    ]);
  }

  async publishProgress(reports: readonly RefreshReport[]): Promise<void> {
    await this.publisher.publish(
      jobProgressTopic,
      reports.map((r) => ({
        key: r.jobId,
        value: create(RefreshProgressSchema, {
          jobId: r.jobId,
          segmentId: r.segmentId,
          segmentVersion: BigInt(r.segmentVersion),
          partition: r.partition,
          partitionCount: r.partitionCount,
          state: r.state,
          processed: BigInt(r.processed),
          total: BigInt(r.total),
          entered: BigInt(r.entered),
          exited: BigInt(r.exited),
          detail: r.detail,
          startedAt: timestampFromMs(r.startedAt),
          reportedAt: timestampFromMs(r.reportedAt),
          ruleChange: r.ruleChange ?? false,
        }),
      })),
    );
  }

  async readPublished(
    from: ReadonlyMap<number, number>,
  ): Promise<Map<number, PublishedTransition[]>> {
    const messages = await readPartitionRanges({
      kafka: this.kafka,
      names: this.names,
      topic: membershipChangesTopic,
      ranges: from,
      logger: this.logger,
    });
    const out = new Map<number, PublishedTransition[]>();
    for (const [partition, list] of messages) {
      const published: PublishedTransition[] = [];
      for (const message of list) {
        let t: MembershipTransition;
        try {
          t = decodeProtobuf(MembershipTransitionSchema, message);
        } catch (error) {
          // not a transition membership published (another producer's record, a corrupt write):
          // nothing of ours to account for, and failing here would stop every partition loading
          this.logger.warn(
            { partition, offset: message.offset, err: error },
            'skipped a record on the transitions topic that is not a transition',
          );
          continue;
        }
        published.push({
          profileId: t.profileId,
          incarnation: headersOf(message.headers)[KafkaHeaders.membershipIncarnation] ?? '',
          segmentId: t.segmentId,
          kind: t.kind === TransitionKind.ENTERED ? 'entered' : 'exited',
          at: t.occurredAt === undefined ? 0 : timestampMs(t.occurredAt),
          sequence: Number(t.sequence),
        });
      }
      out.set(partition, published);
    }
    return out;
  }

  async outputEnd(partition: number): Promise<number> {
    const [output] = await this.ends([membershipChangesTopic]);
    return output?.get(partition) ?? 0;
  }

  async inputEnds(
    partition: number,
  ): Promise<{ changes: number; lists: number; contacts: number }> {
    const [changes, lists, contacts] = await this.ends([
      profileChangesTopic,
      listMembershipTopic,
      membershipContactsTopic,
    ]);
    return {
      changes: (changes?.get(partition) ?? 0) - 1,
      lists: (lists?.get(partition) ?? 0) - 1,
      contacts: (contacts?.get(partition) ?? 0) - 1,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await (await admin?.catch(() => undefined))?.disconnect();
  }

  /** High watermarks (next offsets) per partition of each topic, over one kept admin connection. */
  private async ends(topics: readonly TopicSpec[]): Promise<Map<number, number>[]> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    try {
      const admin = await this.admin;
      return await Promise.all(
        topics.map(async (topic) => {
          const offsets = await admin.fetchTopicOffsets(this.names.of(topic));
          return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
        }),
      );
    } catch (error) {
      // a broken connection is replaced on the next call
      const admin = this.admin;
      this.admin = undefined;
      void admin.then((a) => a.disconnect()).catch(() => undefined);
      throw error;
    }
  }
}
