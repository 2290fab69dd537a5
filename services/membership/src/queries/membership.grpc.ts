import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  type CountMembersRequest,
  type ExplainRequest,
  type GetEvaluationStatusRequest,
  type GetProfileSegmentsRequest,
  type IsMemberRequest,
  type ListMembersRequest,
  MembershipService,
  type PreviewRequest,
  SegmentMembershipSchema,
} from '@shoal/contracts';
import {
  type CallContext,
  GrpcService,
  type GrpcServiceHandlers,
  PageTokens,
  pageCursor,
  pageSize,
} from '@shoal/platform';
import { z } from 'zod';
import type { PartitionStatus } from '../partitions/partition-store.repository.port';
import { PreviewService } from './preview.service';
import { type Membership, MembershipQueriesService, type SegmentTotals } from './queries.service';

const DEFAULT_PAGE = 1_000;
const MAX_PAGE = 10_000;
// a ListMembers cursor carries where the last page ended: a partition and a profile id
const MEMBERS_PAGE = pageCursor(
  'membership.members',
  z.strictObject({ p: z.number().int().nonnegative(), a: z.string() }),
);

/** MembershipService over gRPC: translation only. */
@GrpcService(MembershipService)
export class MembershipGrpc implements GrpcServiceHandlers<typeof MembershipService> {
  constructor(
    private readonly queries: MembershipQueriesService,
    private readonly previews: PreviewService,
    private readonly pageTokens: PageTokens,
  ) {}

  async isMember(request: IsMemberRequest, context: CallContext) {
    const memberships = await this.queries.isMember(
      context.principal,
      request.profileId,
      request.segmentIds,
    );
    return { memberships: memberships.map(toMembership) };
  }

  async getProfileSegments(request: GetProfileSegmentsRequest, context: CallContext) {
    const memberships = await this.queries.profileSegments(context.principal, request.profileId);
    return { memberships: memberships.map(toMembership) };
  }

  async *listMembers(request: ListMembersRequest, context: CallContext) {
    const query = { segmentId: request.segmentId };
    const after = this.pageTokens.decode(MEMBERS_PAGE, request.cursor, query, 'cursor');
    const size = pageSize(request.pageSize, DEFAULT_PAGE, MAX_PAGE, 'pageSize');
    let remaining = request.limit > 0n ? Number(request.limit) : Number.POSITIVE_INFINITY;
    const pages = this.queries.members(
      context.principal,
      request.segmentId,
      after === undefined ? undefined : { partition: after.p, profileId: after.a },
      context.signal,
    );
    for await (const { partition, profileIds } of pages) {
      for (let start = 0; start < profileIds.length && remaining > 0; start += size) {
        const page = profileIds.slice(start, start + Math.min(size, remaining));
        remaining -= page.length;
        const last = page[page.length - 1] as string;
        yield {
          profileIds: page,
          cursor: this.pageTokens.encode(MEMBERS_PAGE, { p: partition, a: last }, query),
        };
      }
      if (remaining <= 0) return;
    }
  }

  async countMembers(request: CountMembersRequest, context: CallContext) {
    const totals = await this.queries.totals(context.principal, request.segmentIds);
    return {
      counts: totals.map((t) => ({
        segmentId: t.segmentId,
        memberCount: BigInt(t.memberCount),
        state: t.state,
        complete: t.complete,
      })),
    };
  }

  async preview(request: PreviewRequest, context: CallContext) {
    const result = await this.previews.preview(
      context.principal,
      request.rule,
      request.sampleSize,
      context.signal,
    );
    return {
      estimatedCount: BigInt(result.estimatedCount),
      exact: result.exact,
      sampleProfileIds: result.sample,
      profilesEvaluated: BigInt(result.profilesEvaluated),
      partitionsEvaluated: result.partitionsEvaluated,
      partitionCount: result.partitionCount,
      notes: result.notes,
    };
  }

  async explain(request: ExplainRequest, context: CallContext) {
    const answer = await this.queries.explain(
      context.principal,
      request.profileId,
      request.segmentId,
    );
    return {
      membership: toMembership(answer.membership),
      segmentVersion: BigInt(answer.version),
      explanation: answer.explanation,
      notes: answer.notes,
    };
  }

  async getEvaluationStatus(request: GetEvaluationStatusRequest, context: CallContext) {
    const [totals] = await this.queries.totals(context.principal, [request.segmentId]);
    const t = totals as SegmentTotals;
    return {
      status: {
        segmentId: t.segmentId,
        segmentVersion: BigInt(t.version),
        partition: -1,
        partitionCount: t.partitions[0]?.partitionCount ?? 0,
        state: t.state,
        memberCount: BigInt(t.memberCount),
        valueTrait: t.valueTrait,
        ...(t.valueSum === undefined ? {} : { valueSum: t.valueSum }),
        valuedMemberCount: BigInt(t.valuedMemberCount),
        lastEvaluatedAt: instant(t.lastEvaluatedAt),
        lastRefreshedAt: instant(t.lastRefreshedAt),
        lagMs: BigInt(t.lagMs),
        lastError: t.lastError,
        notes: [...t.notes],
      },
      partitions: t.partitions.map(toStatus),
    };
  }
}

function instant(ms: number | undefined) {
  return ms === undefined ? undefined : timestampFromMs(ms);
}

/** Made as the message itself, so the response takes it as it is rather than copying it. */
function toMembership(m: Membership) {
  return create(SegmentMembershipSchema, {
    segmentId: m.segmentId,
    member: m.member,
    since: instant(m.since),
    sequence: BigInt(m.sequence),
  });
}

function toStatus(s: PartitionStatus) {
  return {
    segmentId: s.segmentId,
    segmentVersion: BigInt(s.version),
    partition: s.partition,
    partitionCount: s.partitionCount,
    state: s.state,
    memberCount: BigInt(s.memberCount),
    valueTrait: s.valueTrait,
    ...(s.valueSum === undefined ? {} : { valueSum: s.valueSum }),
    valuedMemberCount: BigInt(s.valuedMemberCount),
    lastEvaluatedAt: instant(s.lastEvaluatedAt),
    lastRefreshedAt: instant(s.lastRefreshedAt),
    lagMs: BigInt(s.lagMs),
    lastError: s.lastError,
    notes: [...s.notes],
    reportedAt: instant(s.reportedAt),
  };
}
