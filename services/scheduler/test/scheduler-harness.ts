import {
  create,
  fromBinary,
  fromJson,
  toBinary,
  type JsonValue,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import { ValueSchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  ContentTypes,
  KafkaHeaders,
  MembershipTransitionSchema,
  ProfileChangeSchema,
  RefreshProgressSchema,
  RuleSchema,
  SegmentSchema,
  jobProgressTopic,
  membershipChangesTopic,
  profileChangesTopic,
} from '@shoal/contracts';
import { type TestScope, publishSegmentDefinition } from '@shoal/testing';

// What the other services would publish, produced by the tests themselves: profile changes (as
// ingestion does) and segment definitions (as the segments service does).

const protobuf = { [KafkaHeaders.contentType]: ContentTypes.protobuf };

export class SchedulerHarness {
  private changes = 0;
  private readonly versions = new Map<string, bigint>();

  constructor(
    private readonly scope: TestScope,
    /** The scheduler's time, so a segment is created when the scheduler thinks it is. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Profiles with a trait, as ingestion would record them. */
  async traits(profileIds: readonly string[], traits: Record<string, JsonValue>) {
    const records = profileIds.map((profileId) => {
      this.changes += 1;
      const change = create(ProfileChangeSchema, {
        id: `test-${this.scope.id}-${this.changes}`,
        subjectId: profileId,
        profileId,
        occurredAt: timestampFromMs(Date.now()),
        recordedAt: timestampFromMs(Date.now()),
        change: {
          case: 'traitsChanged',
          value: {
            changes: Object.entries(traits).map(([key, value]) => ({
              key,
              value: fromJson(ValueSchema, value),
            })),
          },
        },
      } as MessageInitShape<typeof ProfileChangeSchema>);
      return {
        key: profileId,
        value: Buffer.from(toBinary(ProfileChangeSchema, change)),
        headers: protobuf,
      };
    });
    for (let i = 0; i < records.length; i += 1000)
      await this.scope.produce(profileChangesTopic, records.slice(i, i + 1000));
  }

  /** Publishes a segment definition (a new version of it) as the segments service would. */
  async define(
    id: string,
    rule: JsonValue,
    init: Partial<MessageInitShape<typeof SegmentSchema>> = {},
  ) {
    const version = (this.versions.get(id) ?? 0n) + 1n;
    this.versions.set(id, version);
    return publishSegmentDefinition(this.scope, {
      id,
      rule: fromJson(RuleSchema, rule),
      version,
      createdAt: timestampFromMs(this.now()),
      ...init,
    });
  }

  /** The transitions of one segment on the membership topic so far. */
  async transitionsOf(segmentId: string) {
    const messages = await this.scope.readTopicToEnd(membershipChangesTopic);
    return messages
      .map((m) => fromBinary(MembershipTransitionSchema, m.value as Buffer))
      .filter((t) => t.segmentId === segmentId);
  }

  /** What membership's partitions reported of one job so far. */
  async progressOf(jobId: string) {
    const messages = await this.scope.readTopicToEnd(jobProgressTopic);
    return messages
      .map((m) => fromBinary(RefreshProgressSchema, m.value as Buffer))
      .filter((p) => p.jobId === jobId);
  }
}
