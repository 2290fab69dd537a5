import type { JsonValue } from '@bufbuild/protobuf';
import {
  type ActivateSegmentRequest,
  type AddListMembersRequest,
  type CountListMembersRequest,
  type CreateSegmentFromTemplateRequest,
  type CreateSegmentRequest,
  type DeactivateSegmentRequest,
  type DeleteSegmentRequest,
  type DuplicateSegmentRequest,
  type GetSegmentHistoryRequest,
  type GetSegmentRequest,
  type GetSegmentUsagesRequest,
  type GetSegmentVersionRequest,
  type ListListMembersRequest,
  type ListSegmentsRequest,
  type PurgeSegmentRequest,
  type RemoveListMembersRequest,
  type RenameSegmentRequest,
  type RevertSegmentRequest,
  SegmentService,
  type SetDestinationUsageRequest,
  type UpdateSegmentRequest,
  type ValidateRuleRequest,
} from '@shoal/contracts';
import {
  type CallContext,
  GrpcService,
  type GrpcServiceHandlers,
  PageTokens,
  Violations,
  pageCursor,
  pageSize,
} from '@shoal/platform';
import { z } from 'zod';
import { StaticListsService } from '../static-lists/static-lists.service';
import { TemplatesService } from '../templates/templates.service';
import { DuplicationService } from './duplication.service';
import { SegmentsService } from './segments.service';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

// what each list's page tokens carry: only these values ever reach a query
const SEGMENTS_PAGE = pageCursor(
  'segments.list',
  z.strictObject({ value: z.union([z.string(), z.number()]), id: z.string() }),
);
const LIST_MEMBERS_PAGE = pageCursor('segments.list-members', z.string());
const HISTORY_PAGE = pageCursor('segments.history', z.number().int().nonnegative());

/** SegmentService over gRPC: translates requests into use cases; no rules live here. */
@GrpcService(SegmentService)
export class SegmentsGrpc implements GrpcServiceHandlers<typeof SegmentService> {
  constructor(
    private readonly segments: SegmentsService,
    private readonly lists: StaticListsService,
    private readonly templates: TemplatesService,
    private readonly duplication: DuplicationService,
    private readonly pageTokens: PageTokens,
  ) {}

  async createSegment(request: CreateSegmentRequest, { principal }: CallContext) {
    const segment = await this.segments.create({
      kind: request.kind,
      draft: request.segment,
      asDraft: request.draft,
      principal,
    });
    return { segment };
  }

  async getSegment(request: GetSegmentRequest, { principal }: CallContext) {
    return { segment: await this.segments.get(request.id, principal) };
  }

  async listSegments(request: ListSegmentsRequest, { principal }: CallContext) {
    const limit = pageSize(request.page?.pageSize ?? 0, DEFAULT_PAGE, MAX_PAGE);
    // a token is valid only for the same query by the same caller
    const query = { ...request, page: undefined, subject: principal.subject };
    const after = this.pageTokens.decode(SEGMENTS_PAGE, request.page?.pageToken ?? '', query);
    const found = await this.segments.list({ request, after, limit: limit + 1, principal });
    const page = this.pageTokens.pageOf(
      SEGMENTS_PAGE,
      found,
      limit,
      (last) => last.position,
      query,
    );
    return { segments: page.items.map((f) => f.segment), nextPageToken: page.nextPageToken };
  }

  async updateSegment(request: UpdateSegmentRequest, { principal }: CallContext) {
    return this.segments.update({
      id: request.id,
      expectedVersion: request.expectedVersion,
      draft: request.segment,
      mask: request.updateMask?.paths ?? [],
      principal,
    });
  }

  async renameSegment(request: RenameSegmentRequest, { principal }: CallContext) {
    return {
      segment: await this.segments.rename({
        id: request.id,
        expectedVersion: request.expectedVersion,
        name: request.name,
        principal,
      }),
    };
  }

  async duplicateSegment(request: DuplicateSegmentRequest, { principal }: CallContext) {
    return {
      segment: await this.duplication.duplicate({ id: request.id, name: request.name, principal }),
    };
  }

  async activateSegment(request: ActivateSegmentRequest, { principal }: CallContext) {
    return {
      segment: await this.segments.activate({
        id: request.id,
        expectedVersion: request.expectedVersion,
        principal,
      }),
    };
  }

  async deactivateSegment(request: DeactivateSegmentRequest, { principal }: CallContext) {
    return {
      segment: await this.segments.deactivate({
        id: request.id,
        expectedVersion: request.expectedVersion,
        principal,
      }),
    };
  }

  async deleteSegment(request: DeleteSegmentRequest, { principal }: CallContext) {
    return {
      usages: await this.segments.delete({
        id: request.id,
        expectedVersion: request.expectedVersion,
        force: request.force,
        principal,
      }),
    };
  }

  async purgeSegment(request: PurgeSegmentRequest, { principal }: CallContext) {
    await this.segments.purge({ id: request.id, principal });
    return {};
  }

  async getSegmentUsages(request: GetSegmentUsagesRequest, { principal }: CallContext) {
    return { usages: await this.segments.usages(request.id, principal) };
  }

  async validateRule(request: ValidateRuleRequest, { principal }: CallContext) {
    if (!request.rule) {
      return { valid: false, violations: [{ field: 'rule', description: 'is required' }] };
    }
    const violations = await this.segments.ruleViolations({
      rule: request.rule,
      audience: request.audience,
      principal,
    });
    return { valid: violations.length === 0, violations };
  }

  async addListMembers(request: AddListMembersRequest, { principal }: CallContext) {
    return {
      added: await this.lists.add({
        listId: request.listId,
        memberIds: request.memberIds,
        principal,
      }),
    };
  }

  async removeListMembers(request: RemoveListMembersRequest, { principal }: CallContext) {
    return {
      removed: await this.lists.remove({
        listId: request.listId,
        memberIds: request.memberIds,
        principal,
      }),
    };
  }

  async listListMembers(request: ListListMembersRequest, { principal }: CallContext) {
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
    return {
      memberCount: BigInt(await this.lists.count({ listId: request.listId, principal })),
    };
  }

  async getSegmentHistory(request: GetSegmentHistoryRequest, { principal }: CallContext) {
    const limit = pageSize(request.page?.pageSize ?? 0, 50, 500);
    const query = { id: request.id };
    const before =
      this.pageTokens.decode(HISTORY_PAGE, request.page?.pageToken ?? '', query) ??
      Number.MAX_SAFE_INTEGER;
    const changes = await this.segments.history({
      id: request.id,
      beforeVersion: before,
      limit: limit + 1,
      principal,
    });
    const page = this.pageTokens.pageOf(
      HISTORY_PAGE,
      changes,
      limit,
      (last) => Number(last.version),
      query,
    );
    return { changes: page.items, nextPageToken: page.nextPageToken };
  }

  async getSegmentVersion(request: GetSegmentVersionRequest, { principal }: CallContext) {
    return {
      segment: await this.segments.version({ id: request.id, version: request.version, principal }),
    };
  }

  async revertSegment(request: RevertSegmentRequest, { principal }: CallContext) {
    return this.segments.revert({
      id: request.id,
      expectedVersion: request.expectedVersion,
      toVersion: request.toVersion,
      principal,
    });
  }

  async listTemplates() {
    return { templates: this.templates.list() };
  }

  async createSegmentFromTemplate(
    request: CreateSegmentFromTemplateRequest,
    { principal }: CallContext,
  ) {
    const segment = await this.templates.create({
      templateId: request.templateId,
      parameters: (request.parameters ?? {}) as Record<string, JsonValue>,
      draft: request.segment,
      asDraft: request.draft,
      principal,
    });
    return { segment };
  }

  async setDestinationUsage(request: SetDestinationUsageRequest, { principal }: CallContext) {
    const v = new Violations();
    if (!request.destinationId) v.add('destinationId', 'is required');
    v.throwIfAny();
    const segment = await this.segments.setDestinationUsage({
      segmentId: request.segmentId,
      destination: {
        id: request.destinationId,
        name: request.destinationName,
        autoSync: request.autoSync,
      },
      inUse: request.inUse,
      principal,
    });
    return { segment };
  }
}
