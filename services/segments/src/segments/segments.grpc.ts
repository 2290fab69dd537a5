import { Injectable } from '@nestjs/common';
import {
  type ActivateSegmentRequest,
  type CreateSegmentRequest,
  type DeactivateSegmentRequest,
  type DeleteSegmentRequest,
  type DuplicateSegmentRequest,
  type GetSegmentHistoryRequest,
  type GetSegmentRequest,
  type GetSegmentUsagesRequest,
  type GetSegmentVersionRequest,
  type ListSegmentsRequest,
  type PurgeSegmentRequest,
  type RenameSegmentRequest,
  type RevertSegmentRequest,
  type SetDestinationUsageRequest,
  type UpdateSegmentRequest,
  type ValidateRuleRequest,
} from '@shoal/contracts';
import { type CallContext, PageTokens, Violations, pageCursor, pageSize } from '@shoal/platform';
import { z } from 'zod';
import { SegmentHistoryService } from './segment-history.service';
import { SegmentRulesService } from './segment-rules.service';
import { SegmentUsagesService } from './segment-usages.service';
import { SegmentsService } from './segments.service';
import { draftFieldsOf } from './update-mask';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

// what each list's page tokens carry: only these values ever reach a query
const SEGMENTS_PAGE = pageCursor(
  'segments.list',
  z.strictObject({ value: z.union([z.string(), z.number()]), id: z.string() }),
);
const HISTORY_PAGE = pageCursor('segments.history', z.number().int().nonnegative());

/**
 * The segment RPCs of SegmentService: checks what the wire cannot (required fields, the update
 * mask), then calls the use case; no rules live here.
 */
@Injectable()
export class SegmentsGrpc {
  constructor(
    private readonly segments: SegmentsService,
    private readonly history: SegmentHistoryService,
    private readonly usages: SegmentUsagesService,
    private readonly rules: SegmentRulesService,
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
    required(request);
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
    required(request);
    return this.segments.update({
      id: request.id,
      expectedVersion: request.expectedVersion,
      draft: request.segment,
      fields: draftFieldsOf(request.updateMask?.paths ?? []),
      principal,
    });
  }

  async renameSegment(request: RenameSegmentRequest, { principal }: CallContext) {
    required(request);
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
    required(request);
    return {
      segment: await this.segments.duplicate({ id: request.id, name: request.name, principal }),
    };
  }

  async activateSegment(request: ActivateSegmentRequest, { principal }: CallContext) {
    required(request);
    return {
      segment: await this.segments.activate({
        id: request.id,
        expectedVersion: request.expectedVersion,
        principal,
      }),
    };
  }

  async deactivateSegment(request: DeactivateSegmentRequest, { principal }: CallContext) {
    required(request);
    return {
      segment: await this.segments.deactivate({
        id: request.id,
        expectedVersion: request.expectedVersion,
        principal,
      }),
    };
  }

  async deleteSegment(request: DeleteSegmentRequest, { principal }: CallContext) {
    required(request);
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
    required(request);
    await this.segments.purge({ id: request.id, principal });
    return {};
  }

  async getSegmentUsages(request: GetSegmentUsagesRequest, { principal }: CallContext) {
    required(request);
    return { usages: await this.usages.usages(request.id, principal) };
  }

  async validateRule(request: ValidateRuleRequest, { principal }: CallContext) {
    if (!request.rule) {
      return { valid: false, violations: [{ field: 'rule', description: 'is required' }] };
    }
    const violations = await this.rules.ruleViolations({
      rule: request.rule,
      audience: request.audience,
      principal,
    });
    return { valid: violations.length === 0, violations };
  }

  async getSegmentHistory(request: GetSegmentHistoryRequest, { principal }: CallContext) {
    required(request);
    const limit = pageSize(request.page?.pageSize ?? 0, 50, 500);
    const query = { id: request.id };
    const before =
      this.pageTokens.decode(HISTORY_PAGE, request.page?.pageToken ?? '', query) ??
      Number.MAX_SAFE_INTEGER;
    const changes = await this.history.history({
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
    required(request);
    return {
      segment: await this.history.version({ id: request.id, version: request.version, principal }),
    };
  }

  async revertSegment(request: RevertSegmentRequest, { principal }: CallContext) {
    required(request);
    return this.history.revert({
      id: request.id,
      expectedVersion: request.expectedVersion,
      toVersion: request.toVersion,
      principal,
    });
  }

  async setDestinationUsage(request: SetDestinationUsageRequest, { principal }: CallContext) {
    const v = new Violations();
    if (!request.segmentId) v.add('segmentId', 'is required');
    if (!request.destinationId) v.add('destinationId', 'is required');
    v.throwIfAny();
    const segment = await this.usages.setDestinationUsage({
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

/**
 * The segment a call names, and for a change the version the caller read (what keeps two
 * editors from overwriting each other): proto3 cannot mark them required, so they are checked here.
 */
function required(request: { id: string; expectedVersion?: bigint }): void {
  const v = new Violations();
  if (!request.id) v.add('id', 'is required');
  if (request.expectedVersion !== undefined && request.expectedVersion <= 0n)
    v.add('expectedVersion', 'is required (the version you read)');
  v.throwIfAny();
}
