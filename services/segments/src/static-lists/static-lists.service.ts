import { Inject, Injectable } from '@nestjs/common';
import { SegmentKind } from '@shoal/contracts';
import { CLOCK, type Clock, ErrorKind, type Principal, Violations } from '@shoal/platform';
import { SEGMENT_LIMITS, type SegmentLimits } from '../segments/segment-limits';
import { SegmentError, SegmentErrorCode } from '../segments/segments.errors';
import { SegmentsService } from '../segments/segments.service';
import { ListMembersRelay } from './list-members.relay';
import { LIST_MEMBER_REPOSITORY, type ListMemberRepositoryPort } from './list-members.repository';

const MAX_MEMBER_ID_LENGTH = 256;

/**
 * Hand-picked members of static lists. Adding and removing are idempotent: a member already on
 * (or off) the list changes nothing and publishes nothing. Member changes do not change the
 * list's definition, so they are allowed while a destination locks it.
 */
@Injectable()
export class StaticListsService {
  constructor(
    @Inject(LIST_MEMBER_REPOSITORY) private readonly members: ListMemberRepositoryPort,
    private readonly segments: SegmentsService,
    private readonly relay: ListMembersRelay,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async add({
    listId,
    memberIds,
    principal,
  }: {
    listId: string;
    memberIds: readonly string[];
    principal: Principal;
  }): Promise<number> {
    const joining = await this.changing({ listId, memberIds, member: true, principal });
    if (joining.length === 0) return 0;
    const size = await this.members.count(listId);
    if (size + joining.length > this.limits.staticListMaxMembers) {
      throw SegmentError.limit(
        'STATIC_LIST_MAX_MEMBERS',
        this.limits.staticListMaxMembers,
        `list ${listId} has ${size} members and ${joining.length} more would exceed it`,
      );
    }
    await this.apply(listId, joining, true, principal);
    return joining.length;
  }

  async remove({
    listId,
    memberIds,
    principal,
  }: {
    listId: string;
    memberIds: readonly string[];
    principal: Principal;
  }): Promise<number> {
    const leaving = await this.changing({ listId, memberIds, member: false, principal });
    await this.apply(listId, leaving, false, principal);
    return leaving.length;
  }

  async page({
    listId,
    afterMemberId,
    limit,
    principal,
  }: {
    listId: string;
    afterMemberId: string;
    limit: number;
    principal: Principal;
  }) {
    await this.list(listId, principal);
    return this.members.page(listId, afterMemberId, limit);
  }

  /** Copies every member of one list to another (duplicating a list). */
  async copyMembers({
    fromListId,
    toListId,
    principal,
  }: {
    fromListId: string;
    toListId: string;
    principal: Principal;
  }): Promise<void> {
    let after = '';
    for (;;) {
      const ids = await this.members.page(fromListId, after, this.limits.membersPerCall);
      if (ids.length === 0) return;
      await this.apply(toListId, ids, true, principal);
      after = ids[ids.length - 1] as string;
    }
  }

  private async apply(
    listId: string,
    memberIds: readonly string[],
    member: boolean,
    principal: Principal,
  ): Promise<void> {
    if (memberIds.length === 0) return;
    const changedAtMs = this.clock.now().getTime();
    await this.members.apply(
      memberIds.map((memberId) => ({
        listId,
        memberId,
        member,
        changedAtMs,
        changedBy: principal.subject,
      })),
    );
    this.relay.kick();
  }

  /** The requested members whose membership would actually change (checked, deduplicated). */
  private async changing({
    listId,
    memberIds,
    member,
    principal,
  }: {
    listId: string;
    memberIds: readonly string[];
    member: boolean;
    principal: Principal;
  }): Promise<string[]> {
    const ids = this.checkMemberIds(memberIds);
    await this.segments.checkEditable(listId, principal);
    await this.list(listId, principal);
    const current = await this.members.find(listId, ids);
    return ids.filter((id) => (current.get(id)?.member ?? false) !== member);
  }

  private async list(listId: string, principal: Principal) {
    const segment = await this.segments.get(listId, principal);
    if (segment.kind !== SegmentKind.STATIC_LIST) {
      throw new SegmentError(
        ErrorKind.FailedPrecondition,
        SegmentErrorCode.NotAStaticList,
        `segment ${listId} is not a static list`,
      );
    }
    return segment;
  }

  private checkMemberIds(memberIds: readonly string[]): string[] {
    const v = new Violations();
    if (memberIds.length === 0) v.add('memberIds', 'give at least one member id');
    if (memberIds.length > this.limits.membersPerCall) {
      v.add(
        'memberIds',
        `has ${memberIds.length} ids; at most ${this.limits.membersPerCall} per call`,
      );
    }
    memberIds.forEach((id, i) => {
      if (!id || id.length > MAX_MEMBER_ID_LENGTH)
        v.add(`memberIds[${i}]`, `must be 1–${MAX_MEMBER_ID_LENGTH} characters`);
    });
    v.throwIfAny();
    return [...new Set(memberIds)];
  }
}
