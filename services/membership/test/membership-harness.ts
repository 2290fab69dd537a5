import {
  create,
  fromBinary,
  fromJson,
  type JsonObject,
  type JsonValue,
  toBinary,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import { ValueSchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  ContentTypes,
  KafkaHeaders,
  MembershipCommandSchema,
  MembershipTransitionSchema,
  ProfileChangeSchema,
  RuleSchema,
  SegmentSchema,
  TransitionKind,
  listMembershipTopic,
  ListMembershipChangedSchema,
  membershipChangesTopic,
  membershipCommandsTopic,
  profileChangesTopic,
  segmentDefinitionsTopic,
  type MembershipTransition,
  type ProfileChange,
  type Segment,
} from '@shoal/contracts';
import { type TestScope, publishSegmentDefinition } from '@shoal/testing';
import type { KafkaMessage } from 'kafkajs';

// What the other services would publish, produced by the tests themselves: profile changes (as
// ingestion does), segment definitions and list changes (as the segments service does) and
// refresh commands (as the scheduler does).

const protobuf = { [KafkaHeaders.contentType]: ContentTypes.protobuf };

export class MembershipHarness {
  private changes = 0;
  private readonly versions = new Map<string, bigint>();

  constructor(private readonly scope: TestScope) {}

  async event(profileId: string, name: string, at: number, properties: JsonObject = {}) {
    await this.changesOf(profileId, [{ case: 'eventRecorded', value: { name, properties } }], at);
  }

  async traits(profileId: string, traits: Record<string, JsonValue>, at = Date.now()) {
    await this.changesOf(
      profileId,
      [
        {
          case: 'traitsChanged',
          value: {
            changes: Object.entries(traits).map(([key, value]) => ({
              key,
              value: fromJson(ValueSchema, value),
            })),
          },
        },
      ],
      at,
    );
  }

  /** An account's traits changed, keyed by the account id as ingestion publishes it. */
  async accountTraits(accountId: string, traits: Record<string, JsonValue | null>) {
    this.changes += 1;
    await this.publish([
      create(ProfileChangeSchema, {
        id: `test-${this.scope.id}-${this.changes}`,
        subjectId: accountId,
        accountId,
        occurredAt: timestampFromMs(Date.now()),
        recordedAt: timestampFromMs(Date.now()),
        change: {
          case: 'accountTraitsChanged',
          value: {
            changes: Object.entries(traits).map(([key, value]) =>
              value === null ? { key } : { key, value: fromJson(ValueSchema, value) },
            ),
          },
        },
      }),
    ]);
  }

  /** A profile joins (or leaves) an account, keyed by the profile as ingestion publishes it. */
  async membershipOfAccount(profileId: string, accountId: string, joined: boolean) {
    const change = this.change(profileId, {
      case: joined ? 'accountJoined' : 'accountLeft',
      value: {},
    });
    change.accountId = accountId;
    await this.publish([change]);
  }

  async publish(changes: readonly ProfileChange[]) {
    await this.scope.produce(
      profileChangesTopic,
      changes.map((change) => ({
        key: change.subjectId,
        value: Buffer.from(toBinary(ProfileChangeSchema, change)),
        headers: protobuf,
      })),
    );
  }

  change(
    profileId: string,
    change: MessageInitShape<typeof ProfileChangeSchema>['change'],
    at = Date.now(),
  ): ProfileChange {
    this.changes += 1;
    return create(ProfileChangeSchema, {
      id: `test-${this.scope.id}-${this.changes}`,
      subjectId: profileId,
      profileId,
      occurredAt: timestampFromMs(at),
      recordedAt: timestampFromMs(Date.now()),
      change,
    } as MessageInitShape<typeof ProfileChangeSchema>);
  }

  private async changesOf(
    profileId: string,
    kinds: MessageInitShape<typeof ProfileChangeSchema>['change'][],
    at: number,
  ) {
    await this.publish(kinds.map((kind) => this.change(profileId, kind, at)));
  }

  /** Publishes a segment definition (a new version of it) as the segments service would. */
  async define(
    id: string,
    rule: JsonValue,
    init: Partial<MessageInitShape<typeof SegmentSchema>> = {},
  ): Promise<Segment> {
    const version = (this.versions.get(id) ?? 0n) + 1n;
    this.versions.set(id, version);
    return publishSegmentDefinition(this.scope, {
      id,
      rule: fromJson(RuleSchema, rule),
      version,
      ...init,
    });
  }

  async deleteSegment(id: string) {
    await this.scope.produce(segmentDefinitionsTopic, [{ key: id, value: null }]);
  }

  async listChange(listId: string, memberId: string, member: boolean, sequence: number) {
    await this.scope.produce(listMembershipTopic, [
      {
        key: memberId,
        value: Buffer.from(
          toBinary(
            ListMembershipChangedSchema,
            create(ListMembershipChangedSchema, {
              listId,
              memberId,
              member,
              sequence: BigInt(sequence),
            }),
          ),
        ),
        headers: protobuf,
      },
    ]);
  }

  async refresh(jobId: string, segmentId: string) {
    await this.scope.produce(membershipCommandsTopic, [
      {
        key: segmentId,
        value: Buffer.from(
          toBinary(
            MembershipCommandSchema,
            create(MembershipCommandSchema, {
              command: { case: 'refresh', value: { jobId, segmentId, requestedBy: 'test' } },
            }),
          ),
        ),
        headers: protobuf,
      },
    ]);
  }

  /** Every transition on the membership topic so far. */
  async transitions(): Promise<{ transition: MembershipTransition; message: KafkaMessage }[]> {
    const messages = await this.scope.readTopicToEnd(membershipChangesTopic);
    return messages.map((message) => ({
      transition: fromBinary(MembershipTransitionSchema, message.value as Buffer),
      message,
    }));
  }

  /** Transitions as short strings: "p1 entered seg_x #1". */
  async summary(): Promise<string[]> {
    return (await this.transitions()).map(
      ({ transition: t }) =>
        `${t.profileId} ${t.kind === TransitionKind.ENTERED ? 'entered' : 'exited'} ${t.segmentId} #${t.sequence}`,
    );
  }
}
