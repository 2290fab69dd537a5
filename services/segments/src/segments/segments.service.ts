import { equals } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  ChangeAction,
  type ListSegmentsRequest,
  type Segment,
  type SegmentDraft,
  SegmentKind,
  SegmentSchema,
  SegmentState,
  SegmentStatus,
  type SegmentUsage,
  Visibility,
} from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { canEdit, isOwner } from './access';
import { draftOf } from './history';
import {
  type DraftField,
  audienceOf,
  emptyDraft,
  initialState,
  mergedDraft,
  revised,
  withPublication,
} from './segment-definitions';
import type { SegmentEvaluation } from './segment-evaluation';
import { SEGMENT_LIMITS, type SegmentLimits } from './segment-limits';
import { SegmentRulesService } from './segment-rules.service';
import { describeUsages } from './segment-usages';
import { listViolations } from './segment-validation';
import { SegmentUsagesService } from './segment-usages.service';
import { SegmentVersions, atVersion } from './segment-versions.service';
import { SegmentError } from './segments.errors';
import {
  type ListCountSeq,
  type ListPosition,
  SEGMENT_REPOSITORY,
  type SegmentRepositoryPort,
  type StoredSegment,
} from './segments.repository.port';

/**
 * What a kind of segment holds beyond its definition (a static list: its members). The feature
 * that keeps it registers how to copy it, so that a duplicate is whole.
 */
export interface SegmentContents {
  copy(args: { fromId: string; toId: string; principal: Principal }): Promise<void>;
}

/**
 * The life of a segment (or static list): created, read and listed as its caller may see it,
 * edited, renamed, duplicated, activated and deactivated, deleted and purged.
 */
@Injectable()
export class SegmentsService {
  private readonly contents = new Map<SegmentKind, SegmentContents>();

  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
    private readonly versions: SegmentVersions,
    private readonly rules: SegmentRulesService,
    private readonly usages: SegmentUsagesService,
  ) {}

  /** How the contents of segments of a kind are copied when one is duplicated. */
  registerContents(kind: SegmentKind, contents: SegmentContents): void {
    this.contents.set(kind, contents);
  }

  /** Membership reported how computing a segment stands (an unknown segment is ignored). */
  saveEvaluations(evaluations: ReadonlyMap<string, SegmentEvaluation>): Promise<void> {
    return this.segments.saveEvaluations(evaluations);
  }

  /** A static list's member count changed with its committed change `seq`. */
  saveListMemberCount(id: string, count: number, seq: number): Promise<void> {
    return this.segments.saveListMemberCount(id, count, seq);
  }

  /** Up to `limit` live static lists after `afterId` in id order, with the change their count is of. */
  listCountSeqs(afterId: string, limit: number): Promise<ListCountSeq[]> {
    return this.segments.listCountSeqs(afterId, limit);
  }

  async create({
    kind,
    draft,
    asDraft,
    principal,
  }: {
    kind: SegmentKind;
    draft: SegmentDraft | undefined;
    asDraft: boolean;
    principal: Principal;
  }): Promise<Segment> {
    const given = draft ?? emptyDraft();
    await this.rules.check({ kind, draft: given, principal, owner: principal.subject });
    const owned = await this.segments.countOwned(principal.subject);
    if (owned >= this.limits.segmentsPerOwner)
      throw SegmentError.tooManySegments(principal.subject, owned, this.limits.segmentsPerOwner);
    return this.versions.first({ kind, draft: given, asDraft, principal });
  }

  /** One segment the caller may see, with where publishing its definition stands. */
  async get(id: string, principal: Principal): Promise<Segment> {
    const stored = await this.versions.visible(id, principal);
    return withPublication(stored.segment, stored.publication);
  }

  /**
   * Refuses a caller who may not change the segment (or list): NOT_FOUND when they cannot see
   * it, PERMISSION_DENIED when they see it but are neither its owner nor an editor.
   */
  async checkEditable(id: string, principal: Principal): Promise<void> {
    const stored = await this.versions.visible(id, principal);
    if (!canEdit(stored.segment, principal)) throw SegmentError.editorsOnly();
  }

  /** Segments the caller may see, filtered and sorted, one page past `after`. */
  async list({
    request,
    after,
    limit,
    principal,
  }: {
    request: ListSegmentsRequest;
    after: ListPosition | undefined;
    limit: number;
    principal: Principal;
  }): Promise<{ segment: Segment; position: ListPosition }[]> {
    const violations = listViolations(request, this.limits);
    if (violations.length > 0) throw SegmentError.invalid(violations);
    const found = await this.segments.list({
      ...(principal.kind === 'service'
        ? {}
        : { viewer: { subject: principal.subject, groups: principal.groups } }),
      kinds: distinct(request.kinds),
      refreshModes: distinct(request.refreshModes),
      statuses: distinct(request.statuses),
      visibilities: distinct(request.visibilities),
      tags: distinct(request.tags),
      owners: distinct(request.owners),
      search: request.search,
      sort: request.sort,
      descending: request.descending,
      ...(after ? { after } : {}),
      limit,
    });
    return found.map(({ segment, position, publication }) => ({
      segment: withPublication(segment, publication),
      position,
    }));
  }

  /** Changes the draft `fields` to their values in `draft`; answers with what uses the segment. */
  async update({
    id,
    expectedVersion,
    draft,
    fields,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    draft: SegmentDraft | undefined;
    fields: readonly DraftField[];
    principal: Principal;
  }): Promise<{ segment: Segment; usages: SegmentUsage[] }> {
    const current = await this.versions.editable(id, expectedVersion, principal);
    const merged = mergedDraft(current.segment, draft, fields);
    if (audienceOf(merged.audience) !== audienceOf(current.segment.audience)) {
      throw SegmentError.invalid([
        { field: 'segment.audience', description: 'cannot change once created' },
      ]);
    }
    const next = await this.versions.revise(current, merged, principal);
    return {
      segment: await this.committed(current, next, ChangeAction.UPDATED, principal),
      usages: await this.usages.usages(id, principal),
    };
  }

  async rename({
    id,
    expectedVersion,
    name,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    name: string;
    principal: Principal;
  }): Promise<Segment> {
    const current = await this.versions.editable(id, expectedVersion, principal);
    // names are unique per owner: only the owner renames, so no answer tells anyone else which
    // names the owner uses elsewhere
    if (!isOwner(current.segment, principal)) throw SegmentError.ownerOnly('rename it');
    const next = await this.versions.revise(
      current,
      { ...draftOf(current.segment), name },
      principal,
    );
    return this.committed(current, next, ChangeAction.RENAMED, principal);
  }

  /**
   * A private copy for the caller of a segment they may see — for a static list with its
   * members; a draft stays a draft. An empty name makes "<name> (copy)".
   */
  async duplicate({
    id,
    name,
    principal,
  }: {
    id: string;
    name: string;
    principal: Principal;
  }): Promise<Segment> {
    const source = (await this.versions.visible(id, principal)).segment;
    const draft = draftOf(source);
    draft.name = name.trim() || `${source.name} (copy)`;
    draft.visibility = Visibility.PRIVATE;
    draft.hiddenFrom = undefined;
    draft.editors = undefined;
    const copy = await this.create({
      kind: source.kind,
      draft,
      asDraft: source.state === SegmentState.DRAFT,
      principal,
    });
    await this.contents.get(source.kind)?.copy({ fromId: id, toId: copy.id, principal });
    return copy;
  }

  /** Makes a segment active (a draft starts computing); refreshes and membership follow it. */
  async activate(request: StatusChange): Promise<Segment> {
    return this.setStatus(request, SegmentStatus.ACTIVE, ChangeAction.ACTIVATED);
  }

  /** Makes a segment inactive: scheduled refreshes skip it. */
  async deactivate(request: StatusChange): Promise<Segment> {
    return this.setStatus(request, SegmentStatus.INACTIVE, ChangeAction.DEACTIVATED);
  }

  /** Deletes a segment the caller owns; refused while something uses it, unless forced. */
  async delete({
    id,
    expectedVersion,
    force,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    force: boolean;
    principal: Principal;
  }): Promise<SegmentUsage[]> {
    const current = await this.versions.visible(id, principal);
    atVersion(current, expectedVersion);
    if (!isOwner(current.segment, principal)) throw SegmentError.ownerOnly('delete it');
    const usages = await this.usages.usages(id, principal);
    if (usages.length > 0 && !force) throw SegmentError.inUse(id, describeUsages(usages));
    await this.versions.commit(current, current.segment, ChangeAction.DELETED, principal, {
      deleted: true,
    });
    return usages;
  }

  /** Removes a deleted segment's definition and history for good (owner only). */
  async purge({ id, principal }: { id: string; principal: Principal }): Promise<void> {
    const stored = await this.versions.readable(id, principal);
    if (!stored.deleted) throw SegmentError.notDeleted(id);
    if (!isOwner(stored.segment, principal)) throw SegmentError.ownerOnly('purge it');
    await this.segments.purge(id);
  }

  /** A new version with the status, unless it has it already (then the segment as it is). */
  private async setStatus(
    { id, expectedVersion, principal }: StatusChange,
    status: SegmentStatus,
    action: ChangeAction,
  ): Promise<Segment> {
    const current = await this.versions.editable(id, expectedVersion, principal);
    const was = current.segment;
    const starts = status === SegmentStatus.ACTIVE && was.state === SegmentState.DRAFT;
    const next = revised(was, { status, state: starts ? initialState(was.kind) : was.state });
    return this.committed(current, next, action, principal);
  }

  /**
   * Commits `next` as a new version — unless it is the current definition exactly (a rename to
   * the same name, an edit that sets what is there, a status it has): then the segment as it
   * is, with no new version, history entry or publication.
   */
  private async committed(
    current: StoredSegment,
    next: Segment,
    action: ChangeAction,
    principal: Principal,
  ): Promise<Segment> {
    if (equals(SegmentSchema, current.segment, next))
      return withPublication(current.segment, current.publication);
    return this.versions.commit(current, next, action, principal);
  }
}

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** A segment whose status the caller changes, at the version they read. */
export interface StatusChange {
  readonly id: string;
  readonly expectedVersion: bigint;
  readonly principal: Principal;
}
