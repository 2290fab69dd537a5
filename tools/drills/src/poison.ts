import {
  ContentTypes,
  type TopicSpec,
  exporterDeadLetterTopic,
  jobProgressTopic,
  listMembershipTopic,
  membershipChangesTopic,
  membershipCommandsTopic,
  membershipContactsTopic,
  membershipDeadLetterTopic,
  profileChangesTopic,
  schedulerDeadLetterTopic,
  segmentDefinitionsTopic,
  segmentStatusTopic,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';

/** A record no consumer can ever process, and where docs/topics.md says it must end. */
export interface PoisonRecord {
  readonly label: string;
  readonly topic: TopicSpec;
  readonly key: string;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The dead-letter topic of each committed consumer group of the topic. Empty for topics read
   * only by followers (compacted state, commands), which log and skip what they cannot decode.
   */
  readonly deadLetters: readonly TopicSpec[];
}

/** A length-delimited field 1 announcing far more bytes than follow: never a valid protobuf. */
const TRUNCATED_PROTOBUF = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);

/**
 * Malformed records for every topic a Shoal service consumes: bad bytes, wrong schema, empty,
 * oversized (`maxMessageBytes` is the services' KAFKA_MAX_MESSAGE_BYTES), a NUL in the key.
 */
export function poisonRecords(runId: string, maxMessageBytes: number): PoisonRecord[] {
  const oversized = (fill: string) => Buffer.alloc(maxMessageBytes + 10_000, fill);
  const event = (n: number, fields: Record<string, unknown>) =>
    Buffer.from(JSON.stringify({ messageId: `${runId}-poison-${n}`, ...fields }));
  const upstream = [upstreamEventsDeadLetterTopic];
  const membership = [membershipDeadLetterTopic];
  return [
    {
      label: 'upstream: not JSON',
      topic: upstreamEventsTopic,
      key: 'drill-poison',
      value: Buffer.from([0xff, 0xfe, 0x7b, 0x00]),
      deadLetters: upstream,
    },
    {
      label: 'upstream: empty value',
      topic: upstreamEventsTopic,
      key: 'drill-poison',
      value: Buffer.alloc(0),
      deadLetters: upstream,
    },
    {
      label: 'upstream: unknown event type',
      topic: upstreamEventsTopic,
      key: 'drill-poison',
      value: event(1, { type: 'purchase', userId: 'drill-poison' }),
      deadLetters: upstream,
    },
    {
      label: 'upstream: no user or anonymous id',
      topic: upstreamEventsTopic,
      key: 'drill-poison',
      value: event(2, { type: 'track', event: 'Order Completed' }),
      deadLetters: upstream,
    },
    {
      label: 'upstream: NUL in the key and in a trait name',
      topic: upstreamEventsTopic,
      key: 'drill\u0000poison',
      value: event(3, { type: 'identify', userId: 'drill-poison', traits: { 'a\u0000b': 1 } }),
      deadLetters: upstream,
    },
    {
      label: 'upstream: oversized',
      topic: upstreamEventsTopic,
      key: 'drill-poison',
      value: event(4, {
        type: 'track',
        userId: 'drill-poison',
        event: 'Order Completed',
        properties: { note: 'x'.repeat(maxMessageBytes + 10_000) },
      }),
      deadLetters: upstream,
    },
    {
      label: 'upstream: protobuf content type, bad bytes',
      topic: upstreamEventsTopic,
      key: 'drill-poison',
      value: TRUNCATED_PROTOBUF,
      headers: { 'content-type': ContentTypes.protobuf },
      deadLetters: upstream,
    },
    {
      label: 'profile changes: undecodable',
      topic: profileChangesTopic,
      key: 'user:drill-poison',
      value: TRUNCATED_PROTOBUF,
      deadLetters: membership,
    },
    {
      label: 'profile changes: empty value',
      topic: profileChangesTopic,
      key: 'user:drill-poison',
      value: Buffer.alloc(0),
      deadLetters: membership,
    },
    {
      label: 'profile changes: oversized',
      topic: profileChangesTopic,
      key: 'user:drill-poison',
      value: oversized('p'),
      deadLetters: membership,
    },
    {
      label: 'list members: undecodable',
      topic: listMembershipTopic,
      key: 'user:drill-poison',
      value: TRUNCATED_PROTOBUF,
      deadLetters: membership,
    },
    {
      label: 'membership contacts: not JSON',
      topic: membershipContactsTopic,
      key: 'drill-poison',
      value: Buffer.from('{"contact": '),
      deadLetters: membership,
    },
    {
      label: 'membership changes: undecodable',
      topic: membershipChangesTopic,
      key: 'user:drill-poison',
      value: TRUNCATED_PROTOBUF,
      deadLetters: [exporterDeadLetterTopic, schedulerDeadLetterTopic],
    },
    {
      label: 'job progress: undecodable',
      topic: jobProgressTopic,
      key: 'drill-poison',
      value: TRUNCATED_PROTOBUF,
      deadLetters: [exporterDeadLetterTopic],
    },
    {
      label: 'segment definitions: undecodable',
      topic: segmentDefinitionsTopic,
      key: 'drill-poison',
      value: TRUNCATED_PROTOBUF,
      deadLetters: [],
    },
    {
      label: 'segment status: undecodable',
      topic: segmentStatusTopic,
      key: 'drill-poison/0',
      value: TRUNCATED_PROTOBUF,
      deadLetters: [],
    },
    {
      label: 'membership commands: undecodable',
      topic: membershipCommandsTopic,
      key: 'drill-poison',
      value: TRUNCATED_PROTOBUF,
      deadLetters: [],
    },
  ];
}
