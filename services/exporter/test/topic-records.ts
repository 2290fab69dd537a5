import { type MessageInitShape, create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  MembershipTransitionSchema,
  ProfileChangeSchema,
  type TransitionKind,
} from '@shoal/contracts';

/** A record as Kafka carries it: keyed by the subject, so one profile's records share a partition. */
export interface TopicRecord {
  readonly key: string;
  readonly value: Buffer;
}

/** A transition as membership publishes it on `shoal.membership.changes`. */
export function transitionRecord({
  id,
  kind,
  segmentId,
  profileId,
  sequence,
}: {
  id: string;
  kind: TransitionKind;
  segmentId: string;
  profileId: string;
  sequence: number;
}): TopicRecord {
  const transition = create(MembershipTransitionSchema, {
    id,
    kind,
    segmentId,
    segmentVersion: 1n,
    profileId,
    occurredAt: timestampFromDate(new Date()),
    sequence: BigInt(sequence),
  });
  return { key: profileId, value: Buffer.from(toBinary(MembershipTransitionSchema, transition)) };
}

/** A profile change as ingestion publishes it on `shoal.profiles.changes`, keyed by its subject. */
function profileChangeRecord(
  profileId: string,
  id: string,
  change: MessageInitShape<typeof ProfileChangeSchema>['change'],
) {
  const value = create(ProfileChangeSchema, {
    id,
    subjectId: profileId,
    profileId,
    sourceId: `api:${id}`,
    occurredAt: timestampFromDate(new Date()),
    recordedAt: timestampFromDate(new Date()),
    incarnation: `incarnation-${profileId}`,
    change,
  });
  return { key: profileId, value: Buffer.from(toBinary(ProfileChangeSchema, value)) };
}

/** `EraseProfile`'s `profile_erased` for one profile (the same id when published again). */
export const erasureRecord = (profileId: string): TopicRecord =>
  profileChangeRecord(profileId, `erased-${profileId}`, { case: 'profileErased', value: {} });

/** An event the profile did, with properties: a change the exporter has no use for. */
export const eventRecord = (profileId: string, name: string): TopicRecord =>
  profileChangeRecord(profileId, `event-${profileId}-${name}`, {
    case: 'eventRecorded',
    value: { name, properties: { email: 'not-for-the-exporter@example.com', total: 12 } },
  });
