import { Inject, Injectable } from '@nestjs/common';
import { SegmentKind } from '@shoal/contracts';
import { ErrorKind, type Principal, Violations } from '@shoal/platform';
import { SEGMENT_LIMITS, type SegmentLimits } from '../segments/segment-limits';
import { SegmentError, SegmentErrorCode } from '../segments/segments.errors';
import { SegmentsService } from '../segments/segments.service';
import { ListMembersRelay } from './list-members.relay';
import { ListMembersService } from './list-members.service';

const MAX_MEMBER_ID_LENGTH = 256;
const MAX_REPORTED_BAD_IDS = 100;

/**
 * Hand-picked members of static lists: who may see and change them, and what a call may ask.
 * Adding and removing are idempotent: a member already on (or off) the list changes nothing and
 * publishes nothing. Member changes do not change the list's definition, so they are allowed
 * while a destination locks it.
 */
@Injectable()
export class StaticListsService {
  constructor(
    private readonly members: ListMembersService,
    private readonly segments: SegmentsService,
    private readonly relay: ListMembersRelay,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
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
    return this.change({ listId, memberIds, member: true, principal });
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
    return this.change({ listId, memberIds, member: false, principal });
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
  }): Promise<string[]> {
    await this.list(listId, principal);
    return this.members.page(listId, afterMemberId, limit);
  }

  async count({ listId, principal }: { listId: string; principal: Principal }): Promise<number> {
    await this.list(listId, principal);
    return this.members.count(listId);
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
    const memberIds = await this.members.all(fromListId);
    if (memberIds.length === 0) return;
    await this.members.change({
      listId: toListId,
      memberIds,
      member: true,
      changedBy: principal.subject,
      maxMembers: this.limits.staticListMaxMembers,
    });
    this.relay.kick();
  }

  private async change({
    listId,
    memberIds,
    member,
    principal,
  }: {
    listId: string;
    memberIds: readonly string[];
    member: boolean;
    principal: Principal;
  }): Promise<number> {
    this.checkMemberIds(memberIds);
    await this.segments.checkEditable(listId, principal);
    await this.list(listId, principal);
    const changed = await this.members.change({
      listId,
      memberIds,
      member,
      changedBy: principal.subject,
      maxMembers: this.limits.staticListMaxMembers,
    });
    if (changed > 0) this.relay.kick();
    return changed;
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

  private checkMemberIds(memberIds: readonly string[]): void {
    const v = new Violations();
    if (memberIds.length === 0) v.add('memberIds', 'give at least one member id');
    if (memberIds.length > this.limits.membersPerCall) {
      v.add(
        'memberIds',
        `has ${memberIds.length} ids; at most ${this.limits.membersPerCall} per call`,
      );
    }
    // name the first bad ids only: a refusal must stay small enough to travel back
    let bad = 0;
    memberIds.forEach((id, i) => {
      if (id && id.length <= MAX_MEMBER_ID_LENGTH) return;
      if (++bad <= MAX_REPORTED_BAD_IDS) {
        v.add(`memberIds[${i}]`, `must be 1–${MAX_MEMBER_ID_LENGTH} characters`);
      }
    });
    if (bad > MAX_REPORTED_BAD_IDS) {
      v.add(
        'memberIds',
        `${bad - MAX_REPORTED_BAD_IDS} more ids are not 1–${MAX_MEMBER_ID_LENGTH} characters`,
      );
    }
    v.throwIfAny();
  }
}
