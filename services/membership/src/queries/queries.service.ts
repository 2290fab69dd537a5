import { Inject, Injectable } from '@nestjs/common';
import { type RuleExplanation, SegmentKind, SegmentState, type Segment } from '@shoal/contracts';
import {
  CATCH_UP_TIMEOUT_MS,
  CLOCK,
  type Clock,
  type Principal,
  type TopicCatchUp,
  Violations,
  canSee,
} from '@shoal/platform';
import { emptyState, explain } from '@shoal/rules';
import type { PairState } from '../evaluation/profile-state';
import { audienceOf } from '../evaluation/segment-catalogue';
import type { PartitionStatus } from '../partitions/partition-store.repository.port';
import { PartitionsService } from '../partitions/partitions.service';
import { DEFINITIONS_CATCH_UP } from '../segments/definitions.follower';
import { SegmentDefinitionsService } from '../segments/segment-definitions.service';
import { MembershipError } from './membership.errors';

/** One profile's membership of one segment, as queries answer it. */
export interface Membership {
  readonly segmentId: string;
  readonly member: boolean;
  readonly since?: number;
  readonly sequence: number;
}

/** A segment's figures over all partitions. */
export interface SegmentTotals {
  readonly segmentId: string;
  readonly version: number;
  readonly state: SegmentState;
  readonly memberCount: number;
  /** The segment's value trait ('' for none); the sum over the partitions that summed it. */
  readonly valueTrait: string;
  readonly valueSum?: number;
  readonly valuedMemberCount: number;
  /** Every partition has reported. */
  readonly complete: boolean;
  readonly lastEvaluatedAt?: number;
  readonly lastRefreshedAt?: number;
  readonly lagMs: number;
  readonly lastError: string;
  readonly notes: readonly string[];
  readonly partitions: readonly PartitionStatus[];
}

export const MAX_SEGMENTS_PER_CALL = 100;
/**
 * Longer than any profile or account id ingestion makes ("trait:<name>:<value>" with both at
 * most 256 characters): a longer one names nobody, and the store must not be asked about it.
 */
export const MAX_PROFILE_ID_LENGTH = 1_024;

/**
 * Membership questions: answered from the working sets of owned partitions, or by `_id` from
 * the read model of the others; never by a scan. Only segments the caller may see exist.
 */
@Injectable()
export class MembershipQueriesService {
  constructor(
    private readonly partitions: PartitionsService,
    private readonly definitions: SegmentDefinitionsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DEFINITIONS_CATCH_UP) private readonly catchUp: TopicCatchUp,
  ) {}

  async isMember(
    principal: Principal,
    profileId: string,
    segmentIds: readonly string[],
  ): Promise<Membership[]> {
    const violations = new Violations();
    requireProfile(violations, profileId);
    requireSegments(violations, 'segmentIds', segmentIds);
    violations.throwIfAny();
    const audiences = (await this.visibleSegments(principal, segmentIds)).map(audienceOf);
    // an account segment's subject is an account: the id names an account for those
    const profile = audiences.includes('profile')
      ? await this.partitions.profileState(profileId)
      : undefined;
    const account = audiences.includes('account')
      ? await this.partitions.profileState(profileId, 'account')
      : undefined;
    return segmentIds.map((segmentId, index) =>
      membershipOf(
        segmentId,
        (audiences[index] === 'account' ? account : profile)?.pairs[segmentId],
      ),
    );
  }

  async profileSegments(principal: Principal, profileId: string): Promise<Membership[]> {
    const violations = new Violations();
    requireProfile(violations, profileId);
    violations.throwIfAny();
    const pairs = (await this.partitions.profileState(profileId))?.pairs ?? {};
    const memberships: Membership[] = [];
    for (const segmentId of Object.keys(pairs)) {
      const pair = pairs[segmentId] as PairState;
      if (pair.member && this.isVisible(principal, segmentId))
        memberships.push(membershipOf(segmentId, pair));
    }
    return memberships.sort(bySegmentId);
  }

  /**
   * Members in (partition, profile id) order, one partition's sorted list at a time, starting
   * after `after` (the position a cursor names).
   */
  async *members(
    principal: Principal,
    segmentId: string,
    after: { partition: number; profileId: string } | undefined,
    signal: AbortSignal,
  ): AsyncIterable<{ partition: number; profileIds: string[] }> {
    await this.visibleSegments(principal, [segmentId]);
    for (
      let partition = after?.partition ?? 0;
      partition < this.partitions.partitionCount;
      partition += 1
    ) {
      if (signal.aborted) return;
      let ids = await this.partitions.members(segmentId, partition);
      if (after !== undefined && partition === after.partition) {
        ids = ids.slice(upperBound(ids, after.profileId));
      }
      if (ids.length > 0) yield { partition, profileIds: ids };
    }
  }

  async totals(principal: Principal, segmentIds: readonly string[]): Promise<SegmentTotals[]> {
    const violations = new Violations();
    requireSegments(violations, 'segmentIds', segmentIds);
    violations.throwIfAny();
    const segments = await this.visibleSegments(principal, segmentIds);
    return Promise.all(
      segments.map(async (segment) =>
        totalsOf(
          segment,
          await this.partitions.statuses(segment.id),
          this.partitions.partitionCount,
        ),
      ),
    );
  }

  async explain(
    principal: Principal,
    profileId: string,
    segmentId: string,
  ): Promise<{
    membership: Membership;
    version: number;
    explanation: RuleExplanation;
    notes: string[];
  }> {
    const violations = new Violations();
    requireProfile(violations, profileId);
    if (!segmentId) violations.add('segmentId', 'is required');
    violations.throwIfAny();
    await this.visibleSegments(principal, [segmentId]);
    const catalogue = this.definitions.current;
    const segment = catalogue.get(segmentId);
    if (segment === undefined) {
      throw MembershipError.notEvaluated(
        segmentId,
        catalogue.failed.get(segmentId)?.reason ?? 'it is not a dynamic segment',
      );
    }
    const profile = await this.partitions.profileState(profileId, segment.audience);
    const now = this.clock.now().getTime();
    const explanation = explain({ rule: segment.rule, state: profile?.state ?? emptyState(), now });
    const pair = profile?.pairs[segmentId];
    const membership = membershipOf(segmentId, pair);
    const notes: string[] = [];
    if (profile === undefined)
      notes.push(`membership has seen no change of this ${segment.audience}`);
    if (membership.member !== explanation.matched) {
      if (!segment.active) notes.push('the segment is inactive: its members stay as they were');
      else if (!segment.realtime)
        notes.push('the segment changes only when it is refreshed (scheduled or manual)');
      else if (!membership.member) notes.push('the re-entry policy keeps the profile out for now');
      else notes.push('the change is being applied');
    }
    if (!this.partitions.local(this.partitions.partitionOf(profileId)))
      notes.push('read from the stored state, which is up to one checkpoint old');
    return { membership, version: segment.version, explanation, notes };
  }

  /**
   * Dynamic segments the caller may see, in order; NOT_FOUND for the first that is not. A
   * segment membership has not read makes it read the definitions topic to its end first
   * (bounded by CATCH_UP_TIMEOUT_MS): one created and published a moment ago is found.
   */
  private async visibleSegments(
    principal: Principal,
    segmentIds: readonly string[],
  ): Promise<Segment[]> {
    if (segmentIds.some((id) => this.definitions.definition(id) === undefined))
      await this.catchUp.readToEnd(CATCH_UP_TIMEOUT_MS);
    return segmentIds.map((id) => this.visibleSegment(principal, id));
  }

  /** A dynamic segment the caller may see; NOT_FOUND otherwise. */
  private visibleSegment(principal: Principal, segmentId: string): Segment {
    const segment = this.definitions.definition(segmentId);
    if (
      segment === undefined ||
      segment.kind !== SegmentKind.DYNAMIC ||
      !canSee(segment, principal)
    )
      throw MembershipError.segmentNotFound(segmentId);
    return segment;
  }

  private isVisible(principal: Principal, segmentId: string): boolean {
    const segment = this.definitions.definition(segmentId);
    return segment !== undefined && canSee(segment, principal);
  }
}

function membershipOf(segmentId: string, pair: PairState | undefined): Membership {
  return pair?.member
    ? { segmentId, member: true, since: pair.since, sequence: pair.seq }
    : { segmentId, member: false, sequence: pair?.seq ?? 0 };
}

/** By segment id, code unit by code unit (as ListMembers sorts ids): no locale rules to apply. */
function bySegmentId(a: Membership, b: Membership): number {
  return a.segmentId < b.segmentId ? -1 : a.segmentId > b.segmentId ? 1 : 0;
}

function requireProfile(violations: Violations, profileId: string): void {
  if (!profileId) violations.add('profileId', 'is required');
  else if (profileId.length > MAX_PROFILE_ID_LENGTH)
    violations.add('profileId', `is longer than ${MAX_PROFILE_ID_LENGTH} characters`);
}

function requireSegments(violations: Violations, field: string, ids: readonly string[]): void {
  if (ids.length === 0) violations.add(field, 'name at least one segment');
  if (ids.length > MAX_SEGMENTS_PER_CALL)
    violations.add(field, `at most ${MAX_SEGMENTS_PER_CALL} segments per call`);
  ids.forEach((id, index) => {
    if (!id) violations.add(`${field}[${index}]`, 'is required');
  });
}

/** The first index whose id sorts after `id`. */
function upperBound(sorted: readonly string[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle] as string) <= id) low = middle + 1;
    else high = middle;
  }
  return low;
}

const STATE_RANK: Record<number, number> = {
  [SegmentState.FAILED]: 3,
  [SegmentState.COMPUTING]: 2,
  [SegmentState.READY]: 1,
};

/** Sums counts, takes the least advanced state, the latest evaluation and the oldest refresh. */
export function totalsOf(
  segment: Segment,
  statuses: readonly PartitionStatus[],
  partitionCount: number,
): SegmentTotals {
  const complete = statuses.length === partitionCount && partitionCount > 0;
  const state = statuses.reduce<SegmentState>(
    (worst, s) => ((STATE_RANK[s.state] ?? 0) > (STATE_RANK[worst] ?? 0) ? s.state : worst),
    complete ? SegmentState.READY : SegmentState.COMPUTING,
  );
  const refreshed = statuses.map((s) => s.lastRefreshedAt);
  const valueTrait = segment.valueTrait;
  const summed = statuses.filter((s) => valueTrait !== '' && s.valueTrait === valueTrait);
  return {
    segmentId: segment.id,
    version: Math.max(Number(segment.version), ...statuses.map((s) => s.version)),
    state,
    memberCount: statuses.reduce((sum, s) => sum + s.memberCount, 0),
    valueTrait,
    ...(valueTrait === ''
      ? {}
      : { valueSum: summed.reduce((sum, s) => sum + (s.valueSum ?? 0), 0) }),
    valuedMemberCount: summed.reduce((sum, s) => sum + s.valuedMemberCount, 0),
    complete,
    lastEvaluatedAt: maxOf(statuses.map((s) => s.lastEvaluatedAt)),
    lastRefreshedAt:
      complete && refreshed.every((at) => at !== undefined)
        ? Math.min(...(refreshed as number[]))
        : undefined,
    lagMs: Math.max(0, ...statuses.map((s) => s.lagMs)),
    lastError: statuses.find((s) => s.lastError !== '')?.lastError ?? '',
    notes: [...new Set(statuses.flatMap((s) => s.notes))],
    partitions: statuses,
  };
}

function maxOf(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : Math.max(...defined);
}
