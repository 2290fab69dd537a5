import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MembershipTransitionSchema, type TransitionKind } from '@shoal/contracts';

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
