import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SegmentKind } from '@shoal/contracts';
import { type Principal, Violations } from '@shoal/platform';
import { SEGMENT_LIMITS, type SegmentLimits } from '../segments/segment-limits';
import { type SegmentContents, SegmentsService } from '../segments/segments.service';
import { ListMembersService } from './list-members.service';
import { StaticListError } from './static-lists.errors';

/** Told after every committed member change, so it is published promptly. */
export interface ListChangeNotifier {
  changed(): void;
}
export const LIST_MEMBER_CHANGES = Symbol('ListChangeNotifier');

/** Members to add to or remove from a list. */
export interface MemberChange {
  readonly listId: string;
  readonly memberIds: readonly string[];
  readonly principal: Principal;
}

const MAX_MEMBER_ID_LENGTH = 256;
/** Lists one reconciliation step reads. */
const COUNT_RECONCILIATION_PAGE = 100;
const MAX_REPORTED_BAD_IDS = 100;

/**
 * Hand-picked members of static lists: who may see and change them, and what a call may ask.
 * Adding and removing are idempotent: a member already on (or off) the list changes nothing and
 * publishes nothing. Member changes do not change the list's definition, so they are allowed
 * while a destination locks it. A duplicated list gets the members of the original.
 */
@Injectable()
export class StaticListsService implements SegmentContents, OnModuleInit {
  constructor(
    private readonly members: ListMembersService,
    private readonly segments: SegmentsService,
    @Inject(LIST_MEMBER_CHANGES) private readonly changes: ListChangeNotifier,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
  ) {}

  onModuleInit(): void {
    this.segments.registerContents(SegmentKind.STATIC_LIST, this);
  }

  /** Adds members; answers how many were not on the list. */
  async add(request: MemberChange): Promise<number> {
    return this.change(request, true);
  }

  /** Removes members; answers how many were on the list. */
  async remove(request: MemberChange): Promise<number> {
    return this.change(request, false);
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

  /** Copies every member of one list to another (its duplicate). */
  async copy({
    fromId,
    toId,
    principal,
  }: {
    fromId: string;
    toId: string;
    principal: Principal;
  }): Promise<void> {
    const memberIds = await this.members.all(fromId);
    if (memberIds.length > 0) await this.write(toId, memberIds, true, principal);
  }

  /**
   * Brings the kept member counts of up to a page of live lists after `afterId` up to their
   * committed changes: for a list whose kept count is missing (kept by no member change since
   * counts were kept) or of an older change (a process died between committing a change and
   * keeping its count). Keeping goes by change, so a newer count kept meanwhile stays. Answers
   * how many counts it kept and the id to continue after (undefined once every list was read).
   */
  async reconcileMemberCounts(
    afterId: string,
  ): Promise<{ readonly reconciled: number; readonly next: string | undefined }> {
    const lists = await this.segments.listCountSeqs(afterId, COUNT_RECONCILIATION_PAGE);
    let reconciled = 0;
    for (const { id, seq } of lists) {
      const committed = await this.members.committed(id);
      if (seq !== undefined && seq >= committed.seq) continue;
      await this.segments.saveListMemberCount(id, committed.count, committed.seq);
      reconciled += 1;
    }
    const next = lists.length < COUNT_RECONCILIATION_PAGE ? undefined : lists.at(-1)?.id;
    return { reconciled, next };
  }

  private async change(
    { listId, memberIds, principal }: MemberChange,
    member: boolean,
  ): Promise<number> {
    this.checkMemberIds(memberIds);
    await this.segments.checkEditable(listId, principal);
    await this.list(listId, principal);
    return this.write(listId, memberIds, member, principal);
  }

  private async write(
    listId: string,
    memberIds: readonly string[],
    member: boolean,
    principal: Principal,
  ): Promise<number> {
    const changed = await this.members.change({
      listId,
      memberIds,
      member,
      changedBy: principal.subject,
      maxMembers: this.limits.staticListMaxMembers,
    });
    if (changed > 0) this.changes.changed();
    // also when nothing changed: a retry records a count a failed call committed but did not record
    const { count, seq } = await this.members.committed(listId);
    await this.segments.saveListMemberCount(listId, count, seq);
    return changed;
  }

  private async list(listId: string, principal: Principal) {
    const segment = await this.segments.get(listId, principal);
    if (segment.kind !== SegmentKind.STATIC_LIST) throw StaticListError.notAStaticList(listId);
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
