import type { DescMessage } from '@bufbuild/protobuf';
import { UpstreamEventSchema } from './gen/shoal/v1/event_pb';
import {
  MembershipCommandSchema,
  MembershipTransitionSchema,
  RefreshProgressSchema,
  SegmentEvaluationStatusSchema,
} from './gen/shoal/v1/membership_pb';
import { ProfileChangeSchema } from './gen/shoal/v1/profile_change_pb';
import { ListMembershipChangedSchema, SegmentSchema } from './gen/shoal/v1/segment_pb';

/** How records on a topic are encoded. */
export type TopicEncoding = 'protobuf' | 'segment-json' | 'raw';

/**
 * One Kafka topic: the single place its name, key, partitioning, retention and payload are
 * stated. Names are relative; a deployment (or a test) adds its prefix at run time.
 */
export interface TopicSpec<Payload extends DescMessage | null = DescMessage | null> {
  readonly name: string;
  readonly description: string;
  /** The protobuf message every record's value holds; null for raw (dead-letter) topics. */
  readonly payload: Payload;
  /** What the record key is. Everything per-profile is keyed by profile id, so order holds. */
  readonly key: string;
  /** Encodings a consumer of this topic accepts. */
  readonly encodings: readonly TopicEncoding[];
  readonly partitions: number;
  /** Retention in milliseconds; -1 keeps records forever (compacted topics). */
  readonly retentionMs: number;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** Where records that can never be processed go, with the reason in headers. */
  readonly deadLetter?: TopicSpec<null>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const upstreamEventsDeadLetterTopic: TopicSpec<null> = {
  name: 'shoal.upstream.events.dlq',
  description:
    'Upstream records ingestion could not accept (undecodable, invalid, too large, failing), ' +
    'unchanged unless too large to fit, with the reason and source in shoal-dlq-* headers.',
  payload: null,
  key: 'the original record key',
  encodings: ['raw'],
  partitions: 3,
  retentionMs: 30 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const upstreamEventsTopic: TopicSpec<typeof UpstreamEventSchema> = {
  name: 'shoal.upstream.events',
  description:
    'Customer events from upstream systems: Segment-spec JSON (track, identify, group, alias) ' +
    'or UpstreamEvent in binary protobuf (content-type: application/x-protobuf).',
  payload: UpstreamEventSchema,
  key: 'userId, else anonymousId (recommended, so one person’s events stay in order)',
  encodings: ['segment-json', 'protobuf'],
  partitions: 12,
  retentionMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
  deadLetter: upstreamEventsDeadLetterTopic,
};

export const profileChangesTopic: TopicSpec<typeof ProfileChangeSchema> = {
  name: 'shoal.profiles.changes',
  description:
    'Every fact ingestion recorded about a profile or account — events, trait changes, ' +
    'identities, accounts, tags, merges, erasures — as ProfileChange records with ' +
    'deterministic ids, in order per subject.',
  payload: ProfileChangeSchema,
  key: 'profile id (account id for account facts)',
  encodings: ['protobuf'],
  partitions: 12,
  retentionMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const segmentDefinitionsTopic: TopicSpec<typeof SegmentSchema> = {
  name: 'shoal.segments.definitions',
  description:
    'The current definition of every segment and static list (a Segment with its version), ' +
    'compacted: replaying it rebuilds the full set. A tombstone (null value) means deleted.',
  payload: SegmentSchema,
  key: 'segment id',
  encodings: ['protobuf'],
  partitions: 3,
  retentionMs: -1,
  cleanupPolicy: 'compact',
};

export const listMembershipTopic: TopicSpec<typeof ListMembershipChangedSchema> = {
  name: 'shoal.segments.list-members',
  description:
    'Members added to or removed from static lists; keep the highest sequence per (list, member).',
  payload: ListMembershipChangedSchema,
  key: 'member id (profile or account id), so each member’s changes stay in order',
  encodings: ['protobuf'],
  partitions: 12,
  retentionMs: 30 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const membershipDeadLetterTopic: TopicSpec<null> = {
  name: 'shoal.membership.dlq',
  description:
    'Profile changes and static-list changes the membership service can never process, unchanged, ' +
    'with the reason and source topic/partition/offset in shoal-dlq-* headers.',
  payload: null,
  key: 'the original record key',
  encodings: ['raw'],
  partitions: 3,
  retentionMs: 30 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const membershipChangesTopic: TopicSpec<typeof MembershipTransitionSchema> = {
  name: 'shoal.membership.changes',
  description:
    'segment.entered / segment.exited: a MembershipTransition with CloudEvents attributes in ' +
    'ce_* headers; deterministic ids and a per-(profile, segment) sequence. Co-partitioned with ' +
    'shoal.profiles.changes.',
  payload: MembershipTransitionSchema,
  key: 'profile id',
  encodings: ['protobuf'],
  partitions: 12,
  retentionMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const membershipContactsTopic: TopicSpec<null> = {
  name: 'shoal.membership.contacts',
  description:
    'Internal to membership: a profile’s state reduced to what contacts conditions read, sent by ' +
    'the profile’s partition to each account it belongs to (JSON ContactRecord, versioned; no ' +
    'state: the profile left), and ContactsSettled markers sent to every partition. ' +
    'Co-partitioned with shoal.profiles.changes.',
  payload: null,
  key: 'account id (markers: none, one per partition)',
  encodings: ['raw'],
  partitions: 12,
  retentionMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const segmentStatusTopic: TopicSpec<typeof SegmentEvaluationStatusSchema> = {
  name: 'shoal.membership.segment-status',
  description:
    'How computing each segment stands in each partition (state, member count, last evaluated, ' +
    'lag, last error), compacted; a segment’s count is the sum over its partitions. A tombstone ' +
    'means the segment was deleted.',
  payload: SegmentEvaluationStatusSchema,
  key: '<segment id>/<partition>',
  encodings: ['protobuf'],
  partitions: 3,
  retentionMs: -1,
  cleanupPolicy: 'compact',
};

export const membershipCommandsTopic: TopicSpec<typeof MembershipCommandSchema> = {
  name: 'shoal.membership.commands',
  description:
    'Refresh and cancel commands for the membership service (from the scheduler); every ' +
    'membership instance reads them all and works on its own partitions.',
  payload: MembershipCommandSchema,
  key: 'segment id',
  encodings: ['protobuf'],
  partitions: 3,
  retentionMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const jobProgressTopic: TopicSpec<typeof RefreshProgressSchema> = {
  name: 'shoal.membership.job-progress',
  description:
    'Progress and outcome of refresh jobs, one RefreshProgress per partition and report; a job ' +
    'is done when every partition reported a final state.',
  payload: RefreshProgressSchema,
  key: 'job id',
  encodings: ['protobuf'],
  partitions: 3,
  retentionMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const exporterDeadLetterTopic: TopicSpec<null> = {
  name: 'shoal.exporter.dlq',
  description:
    'Membership transitions the exporter can never read (undecodable), unchanged, with the ' +
    'reason and source topic/partition/offset in shoal-dlq-* headers. Batches a destination ' +
    'refused are dead-lettered in the exporter’s store instead (ListDeadLetters).',
  payload: null,
  key: 'the original record key',
  encodings: ['raw'],
  partitions: 3,
  retentionMs: 30 * DAY_MS,
  cleanupPolicy: 'delete',
};

export const schedulerDeadLetterTopic: TopicSpec<null> = {
  name: 'shoal.scheduler.dlq',
  description:
    'Membership transitions the scheduler can never count as churn (undecodable), unchanged, ' +
    'with the reason and source topic/partition/offset in shoal-dlq-* headers.',
  payload: null,
  key: 'the original record key',
  encodings: ['raw'],
  partitions: 3,
  retentionMs: 30 * DAY_MS,
  cleanupPolicy: 'delete',
};

/** The key of a segment's status in one partition on segmentStatusTopic: "<segment id>/<partition>". */
export const segmentStatusKey = {
  of: (segmentId: string, partition: number): string => `${segmentId}/${partition}`,
  /** The segment and partition a key names, or undefined for a key of another shape. */
  parse(key: string): { segmentId: string; partition: number } | undefined {
    const slash = key.lastIndexOf('/');
    const partition = Number(key.slice(slash + 1));
    if (slash <= 0 || slash === key.length - 1 || !Number.isInteger(partition) || partition < 0)
      return undefined;
    return { segmentId: key.slice(0, slash), partition };
  },
};

/** Every topic Shoal creates, in the order they are documented. */
export const topicCatalogue: readonly TopicSpec[] = [
  upstreamEventsTopic,
  upstreamEventsDeadLetterTopic,
  profileChangesTopic,
  segmentDefinitionsTopic,
  listMembershipTopic,
  membershipChangesTopic,
  membershipContactsTopic,
  segmentStatusTopic,
  membershipCommandsTopic,
  jobProgressTopic,
  membershipDeadLetterTopic,
  exporterDeadLetterTopic,
  schedulerDeadLetterTopic,
];

/** Kafka header names Shoal sets or reads. */
export const KafkaHeaders = {
  contentType: 'content-type',
  traceparent: 'traceparent',
  deadLetterReason: 'shoal-dlq-reason',
  deadLetterError: 'shoal-dlq-error',
  deadLetterTopic: 'shoal-dlq-source-topic',
  deadLetterPartition: 'shoal-dlq-source-partition',
  deadLetterOffset: 'shoal-dlq-source-offset',
  deadLetterAt: 'shoal-dlq-at',
  deadLetterTruncated: 'shoal-dlq-truncated',
  deadLetterOriginalBytes: 'shoal-dlq-original-bytes',
  deadLetterOriginalSha256: 'shoal-dlq-original-sha256',
  /** The incarnation of the profile a membership transition belongs to (see docs/membership.md). */
  membershipIncarnation: 'shoal-membership-incarnation',
} as const;

/** CloudEvents attributes in Kafka binary mode (headers), as membership transitions carry them. */
export const CloudEventHeaders = {
  specversion: 'ce_specversion',
  type: 'ce_type',
  id: 'ce_id',
  source: 'ce_source',
  subject: 'ce_subject',
  time: 'ce_time',
} as const;

export const CloudEventTypes = {
  entered: 'shoal.segment.entered',
  exited: 'shoal.segment.exited',
} as const;

export const ContentTypes = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
} as const;
