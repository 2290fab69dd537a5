import { Injectable } from '@nestjs/common';
import type {
  AddListMembersRequest,
  CountListMembersRequest,
  ListListMembersRequest,
  RemoveListMembersRequest,
} from '@shoal/contracts';
import {
  type CallContext,
  PageTokens,
  type Principal,
  Violations,
  pageCursor,
  pageSize,
} from '@shoal/platform';
import { z } from 'zod';
import { type MemberChange, StaticListsService } from './static-lists.service';

// a list-members page token carries the last member id: only that ever reaches a query
const LIST_MEMBERS_PAGE = pageCursor('segments.list-members', z.string());

/** The static-list member RPCs of SegmentService: the wire into use cases, no rules. */
@Injectable()
export class StaticListsGrpc {
  constructor(
    private readonly lists: StaticListsService,
    private readonly pageTokens: PageTokens,
  ) {}

  async addListMembers(request: AddListMembersRequest, { principal }: CallContext) {
    return { added: await this.lists.add(memberChange(request, principal)) };
  }

  async removeListMembers(request: RemoveListMembersRequest, { principal }: CallContext) {
    return { removed: await this.lists.remove(memberChange(request, principal)) };
  }

  async listListMembers(request: ListListMembersRequest, { principal }: CallContext) {
    required(request);
    const limit = pageSize(request.page?.pageSize ?? 0, 1000, 10_000);
    const query = { listId: request.listId };
    const after =
      this.pageTokens.decode(LIST_MEMBERS_PAGE, request.page?.pageToken ?? '', query) ?? '';
    const memberIds = await this.lists.page({
      listId: request.listId,
      afterMemberId: after,
      limit: limit + 1,
      principal,
    });
    const page = this.pageTokens.pageOf(LIST_MEMBERS_PAGE, memberIds, limit, (last) => last, query);
    return { memberIds: page.items, nextPageToken: page.nextPageToken };
  }

  async countListMembers(request: CountListMembersRequest, { principal }: CallContext) {
    required(request);
    return {
      memberCount: BigInt(await this.lists.count({ listId: request.listId, principal })),
    };
  }
}

function memberChange(
  { listId, memberIds }: { listId: string; memberIds: string[] },
  principal: Principal,
): MemberChange {
  required({ listId });
  return { listId, memberIds, principal };
}

/** The list a call names: proto3 cannot mark it required, so it is checked here. */
function required(request: { listId: string }): void {
  if (!request.listId) new Violations().add('listId', 'is required').throwIfAny();
}
