import { type MessageInitShape, create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  Audience,
  ChangeAction,
  type HiddenFrom,
  type ListSegmentsRequest,
  type Publication,
  PublicationSchema,
  PublicationState,
  RefreshMode,
  RefreshModeSchema,
  type Rule,
  RuleSchema,
  type Segment,
  type SegmentChange,
  SegmentChangeSchema,
  type SegmentDraft,
  SegmentKind,
  SegmentKindSchema,
  SegmentSchema,
  SegmentSort,
  SegmentState,
  SegmentStatus,
  SegmentStatusSchema,
  type SegmentUsage,
  SegmentUsageSchema,
  UsageKind,
  Visibility,
  VisibilitySchema,
} from '@shoal/contracts';
import {
  CLOCK,
  type Clock,
  DomainError,
  ErrorKind,
  type FieldViolation,
  type Principal,
  Violations,
} from '@shoal/platform';
import { membershipReferences, nestingViolation, validateRule } from '@shoal/rules';
import { canEdit, canSee, isOwner, seenByEveryoneWhoSees } from './access';
import { draftOf, fieldChanges, ruleDiff, ruleJson } from './history';
import { newSegmentId } from './segment-ids';
import { SEGMENT_LIMITS, type SegmentLimits } from './segment-limits';
import { definitionSizeViolations, draftViolations } from './segment-validation';
import { SegmentError, SegmentErrorCode } from './segments.errors';
import {
  type DestinationUse,
  type ListPosition,
  type PendingChange,
  type SegmentListCriteria,
  SEGMENT_REPOSITORY,
  type SegmentRepositoryPort,
  type StoredSegment,
} from './segments.repository';

/** Told after every committed change, so the change is recorded and published promptly. */
export interface SegmentChangeNotifier {
  changed(): void;
}
export const SEGMENT_CHANGES = Symbol('SegmentChangeNotifier');

const SORTS: Record<SegmentSort, SegmentListCriteria['sort']> = {
  [SegmentSort.UNSPECIFIED]: 'updatedAt',
  [SegmentSort.NAME]: 'name',
  [SegmentSort.CREATED_AT]: 'createdAt',
  [SegmentSort.UPDATED_AT]: 'updatedAt',
  [SegmentSort.MEMBER_COUNT]: 'memberCount',
};

/** Draft fields an update mask may name (JSON or proto spelling). */
const MASKABLE = [
  'name',
  'description',
  'tags',
  'audience',
  'rule',
  'refresh',
  'reentry',
  'visibility',
  'hiddenFrom',
  'editors',
] as const;
type MaskField = (typeof MASKABLE)[number];

@Injectable()
export class SegmentsService {
  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SEGMENT_CHANGES) private readonly changes: SegmentChangeNotifier,
  ) {}

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
    await this.validate({ kind, draft: given, principal, owner: principal.subject });
    const owned = await this.segments.countOwned(principal.subject);
    if (owned >= this.limits.segmentsPerOwner) {
      throw SegmentError.limit(
        'SEGMENTS_PER_OWNER_MAX',
        this.limits.segmentsPerOwner,
        `${principal.subject} already has ${owned} segments`,
      );
    }
    const now = timestampFromDate(this.clock.now());
    const segment = create(SegmentSchema, {
      ...definitionFields(kind, given),
      id: newSegmentId(),
      kind,
      status: asDraft ? SegmentStatus.INACTIVE : SegmentStatus.ACTIVE,
      state: asDraft ? SegmentState.DRAFT : initialState(kind),
      owner: principal.subject,
      version: 1n,
      createdAt: now,
      createdBy: principal.subject,
      updatedAt: now,
      updatedBy: principal.subject,
    });
    const tooLarge = definitionSizeViolations(segment, this.limits);
    if (tooLarge.length > 0) throw SegmentError.invalid(tooLarge);
    const pending = this.pendingChange(undefined, segment, ChangeAction.CREATED, principal);
    const stored: StoredSegment = {
      segment,
      references: referencesOf(segment.rule),
      destinations: [],
      deleted: false,
    };
    if (!(await this.segments.insert(stored, pending))) throw nameTaken(segment.name);
    await this.segments.saveVersion(pending);
    this.changes.changed();
    return withPublication(segment, PENDING);
  }

  /** One segment the caller may see, with where publishing its definition stands. */
  async get(id: string, principal: Principal): Promise<Segment> {
    const stored = await this.visible(id, principal);
    return withPublication(stored.segment, stored.publication);
  }

  /**
   * Refuses a caller who may not change the segment (or list): NOT_FOUND when they cannot see
   * it, PERMISSION_DENIED when they see it but are neither its owner nor an editor.
   */
  async checkEditable(id: string, principal: Principal): Promise<void> {
    const stored = await this.visible(id, principal);
    if (!canEdit(stored.segment, principal)) throw notEditor();
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
  }) {
    const names = (
      schema: { values: readonly { number: number; name: string }[] },
      values: readonly number[],
    ) => values.map((n) => schema.values.find((v) => v.number === n)?.name ?? String(n));
    const found = await this.segments.list({
      ...(principal.kind === 'service'
        ? {}
        : { viewer: { subject: principal.subject, groups: principal.groups } }),
      kinds: names(SegmentKindSchema, request.kinds),
      refreshModes: names(RefreshModeSchema, request.refreshModes),
      statuses: names(SegmentStatusSchema, request.statuses),
      visibilities: names(VisibilitySchema, request.visibilities),
      tags: request.tags,
      owners: request.owners,
      search: request.search,
      sort: SORTS[request.sort] ?? 'updatedAt',
      descending: request.descending,
      ...(after ? { after } : {}),
      limit,
    });
    return found.map(({ segment, position, publication }) => ({
      segment: withPublication(segment, publication),
      position,
    }));
  }

  async update({
    id,
    expectedVersion,
    draft,
    mask,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    draft: SegmentDraft | undefined;
    mask: readonly string[];
    principal: Principal;
  }): Promise<{ segment: Segment; usages: SegmentUsage[] }> {
    const current = await this.editable(id, expectedVersion, principal);
    const fields = maskFields(mask);
    const merged = draftOf(current.segment);
    const given = draft ?? emptyDraft();
    for (const field of fields)
      (merged as unknown as Record<string, unknown>)[field] = given[field];
    if (merged.audience !== current.segment.audience) {
      throw SegmentError.invalid([
        { field: 'segment.audience', description: 'cannot change once created' },
      ]);
    }
    const segment = await this.revise(current, merged, principal);
    const committed = await this.commit(current, segment, ChangeAction.UPDATED, principal);
    return {
      segment: withPublication(committed, PENDING),
      usages: await this.usages(id, principal),
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
  }) {
    const current = await this.editable(id, expectedVersion, principal);
    // names are unique per owner: only the owner renames, so no answer tells anyone else which
    // names the owner uses elsewhere
    if (!isOwner(current.segment, principal)) throw ownerOnly('rename it');
    const segment = await this.revise(current, { ...draftOf(current.segment), name }, principal);
    return withPublication(
      await this.commit(current, segment, ChangeAction.RENAMED, principal),
      PENDING,
    );
  }

  async duplicate({
    id,
    name,
    principal,
  }: {
    id: string;
    name: string;
    principal: Principal;
  }): Promise<Segment> {
    const source = (await this.visible(id, principal)).segment;
    const draft = {
      ...draftOf(source),
      name: name.trim() || `${source.name} (copy)`,
      visibility: Visibility.PRIVATE,
    };
    delete (draft as Partial<SegmentDraft>).hiddenFrom;
    delete (draft as Partial<SegmentDraft>).editors;
    return this.create({
      kind: source.kind,
      draft,
      asDraft: source.state === SegmentState.DRAFT,
      principal,
    });
  }

  async activate({
    id,
    expectedVersion,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    principal: Principal;
  }) {
    const current = await this.editable(id, expectedVersion, principal);
    const was = current.segment;
    if (was.status === SegmentStatus.ACTIVE) return was;
    const segment = revised(was, {
      status: SegmentStatus.ACTIVE,
      state: was.state === SegmentState.DRAFT ? initialState(was.kind) : was.state,
    });
    return withPublication(
      await this.commit(current, segment, ChangeAction.ACTIVATED, principal),
      PENDING,
    );
  }

  async deactivate({
    id,
    expectedVersion,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    principal: Principal;
  }) {
    const current = await this.editable(id, expectedVersion, principal);
    if (current.segment.status === SegmentStatus.INACTIVE) return current.segment;
    const segment = revised(current.segment, { status: SegmentStatus.INACTIVE });
    return withPublication(
      await this.commit(current, segment, ChangeAction.DEACTIVATED, principal),
      PENDING,
    );
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
  }) {
    const current = await this.visible(id, principal);
    checkVersion(current, expectedVersion);
    if (!isOwner(current.segment, principal)) throw ownerOnly('delete it');
    const usages = await this.usages(id, principal);
    if (usages.length > 0 && !force) {
      throw new SegmentError(
        ErrorKind.FailedPrecondition,
        SegmentErrorCode.InUse,
        `segment ${id} is used by ${describeUsages(usages)}; delete with force to delete anyway`,
      );
    }
    await this.commit(current, current.segment, ChangeAction.DELETED, principal, { deleted: true });
    return usages;
  }

  /** Removes a deleted segment's definition and history for good (owner only). */
  async purge({ id, principal }: { id: string; principal: Principal }): Promise<void> {
    const stored = await this.readable(id, principal);
    if (!stored.deleted) {
      throw new SegmentError(
        ErrorKind.FailedPrecondition,
        SegmentErrorCode.NotDeleted,
        `segment ${id} is not deleted; delete it first`,
      );
    }
    if (!isOwner(stored.segment, principal)) throw ownerOnly('purge it');
    await this.segments.purge(id);
  }

  /** Other segments whose rules read this one, and destinations syncing it. */
  async usages(id: string, principal: Principal): Promise<SegmentUsage[]> {
    const stored = await this.visible(id, principal);
    const referencing = await this.segments.findReferencing(id);
    return [
      ...referencing.map(({ segment }) => segmentUsage(segment, principal)),
      ...stored.destinations.map((d) =>
        create(SegmentUsageSchema, {
          kind: UsageKind.DESTINATION,
          id: d.id,
          name: d.name,
          autoSync: d.autoSync,
        }),
      ),
    ];
  }

  /**
   * Every problem with a rule, as ValidateRule reports it (paths start at "rule."). With a
   * `referrer` (the segment the rule is for), a referenced segment or list must be seen by
   * everyone who sees the referrer; without one, by the caller.
   */
  async ruleViolations({
    rule,
    audience,
    principal,
    segmentId,
    referrer,
    prefix = 'rule',
  }: {
    rule: Rule;
    audience: Audience;
    principal: Principal;
    segmentId?: string;
    referrer?: AudienceOf;
    prefix?: string;
  }): Promise<FieldViolation[]> {
    const at = (path: string) => (path ? `${prefix}.${path}` : prefix);
    // every walk below recurses through the conditions: an absurd nesting stops here
    const tooDeep = nestingViolation(rule, this.limits.rule.maxDepth);
    if (tooDeep) return [{ field: at(tooDeep.path), description: tooDeep.message }];
    const effective = create(RuleSchema, {
      ...fieldsOfRule(rule),
      audience: rule.audience === Audience.UNSPECIFIED ? audience : rule.audience,
    });
    const referenced = await this.referenceClosure(effective);
    const violations: FieldViolation[] = [];
    // a direct reference must be to something the caller may see; the cycle check walks everything
    const hidden = new Set<string>();
    for (const reference of membershipReferences(effective)) {
      const target = referenced.get(reference.segmentId);
      const usable = target && !target.deleted && canSee(target.segment, principal);
      if (target && !target.deleted && !usable) hidden.add(reference.segmentId);
      const what = reference.kind === 'list' ? 'static list' : 'segment';
      if (
        reference.kind === 'list' &&
        (!usable || target.segment.kind !== SegmentKind.STATIC_LIST)
      ) {
        violations.push({
          field: at(reference.path),
          description: `static list "${reference.segmentId}" does not exist`,
        });
      } else if (
        usable &&
        referrer &&
        !seenByEveryoneWhoSees({
          target: target.segment,
          referrer,
          referrerOwnerGroups: referrer.owner === principal.subject ? principal.groups : [],
        })
      ) {
        const why =
          target.segment.visibility === Visibility.SHARED
            ? 'is hidden from people who can see this segment'
            : 'is private';
        violations.push({
          field: at(reference.path),
          description: `${what} "${reference.segmentId}" ${why}: a shared segment may use only segments and lists that everyone who sees it can see`,
        });
      }
    }
    const result = validateRule({
      rule: effective,
      limits: this.limits.rule,
      now: this.clock.now().getTime(),
      ...(segmentId ? { segmentId } : {}),
      lookupRule: (id) => {
        const target = referenced.get(id);
        if (!target || target.deleted || hidden.has(id)) return undefined;
        return target.segment.kind === SegmentKind.DYNAMIC
          ? target.segment.rule
          : create(RuleSchema, { audience: target.segment.audience });
      },
    });
    // a cycle is refused even through segments the caller cannot see, without naming them
    // (ids the caller wrote stay: redacting those would tell them apart from unknown ids)
    const written = new Set(membershipReferences(effective).map((r) => r.segmentId));
    const unseen = [...referenced.values()]
      .filter((r) => !canSee(r.segment, principal) && !written.has(r.segment.id))
      .map((r) => r.segment.id);
    const redact = (text: string) =>
      unseen.reduce((out, id) => out.split(id).join('(a segment you cannot see)'), text);
    violations.push(
      ...result.violations.map((v) => ({ field: at(v.path), description: redact(v.message) })),
    );
    // the size of the whole, when no part of it is at fault
    const bytes = toBinary(RuleSchema, effective).length;
    if (violations.length === 0 && bytes > this.limits.definitionMaxBytes) {
      violations.push({
        field: prefix,
        description: `the rule is ${bytes} bytes encoded; the limit SEGMENT_DEFINITION_MAX_BYTES is ${this.limits.definitionMaxBytes}`,
      });
    }
    return violations;
  }

  async history({
    id,
    beforeVersion,
    limit,
    principal,
  }: {
    id: string;
    beforeVersion: number;
    limit: number;
    principal: Principal;
  }): Promise<SegmentChange[]> {
    const stored = await this.readable(id, principal);
    return this.segments.listChanges(id, Number(stored.segment.version), beforeVersion, limit);
  }

  async version({
    id,
    version,
    principal,
  }: {
    id: string;
    version: bigint;
    principal: Principal;
  }): Promise<Segment> {
    const stored = await this.readable(id, principal);
    const found =
      version > 0n && version <= stored.segment.version
        ? await this.segments.findVersion(id, Number(version))
        : undefined;
    if (!found) {
      throw new SegmentError(
        ErrorKind.NotFound,
        SegmentErrorCode.VersionNotFound,
        `segment ${id} has no version ${version}`,
      );
    }
    return found.snapshot;
  }

  /** A new version whose definition equals `toVersion`'s. */
  async revert({
    id,
    expectedVersion,
    toVersion,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    toVersion: bigint;
    principal: Principal;
  }) {
    const current = await this.editable(id, expectedVersion, principal);
    const earlier = await this.version({ id, version: toVersion, principal });
    const segment = await this.revise(current, draftOf(earlier), principal);
    const committed = await this.commit(current, segment, ChangeAction.REVERTED, principal, {
      revertedTo: toVersion,
    });
    return {
      segment: withPublication(committed, PENDING),
      usages: await this.usages(id, principal),
    };
  }

  /** The exporter tells us a destination started or stopped using a segment. */
  async setDestinationUsage({
    segmentId,
    destination,
    inUse,
    principal,
  }: {
    segmentId: string;
    destination: DestinationUse;
    inUse: boolean;
    principal: Principal;
  }): Promise<Segment> {
    if (principal.kind !== 'service') {
      throw new SegmentError(
        ErrorKind.PermissionDenied,
        SegmentErrorCode.ServiceOnly,
        'only Shoal services may record destination usage',
      );
    }
    const current = await this.visible(segmentId, principal);
    const others = current.destinations.filter((d) => d.id !== destination.id);
    const destinations = inUse ? [...others, destination] : others;
    const lockedBy = destinations
      .filter((d) => d.autoSync)
      .map((d) => d.id)
      .sort();
    const wasLocked = current.segment.lock?.locked ?? false;
    const segment = revised(current.segment, {
      lock: { locked: lockedBy.length > 0, destinationIds: lockedBy },
    });
    const action =
      lockedBy.length > 0 === wasLocked
        ? ChangeAction.UPDATED
        : lockedBy.length > 0
          ? ChangeAction.LOCKED
          : ChangeAction.UNLOCKED;
    return this.commit(current, segment, action, principal, { destinations });
  }

  /** Validates a full draft for an existing segment and builds its next definition. */
  private async revise(
    current: StoredSegment,
    draft: SegmentDraft,
    principal: Principal,
  ): Promise<Segment> {
    const was = current.segment;
    if (!isOwner(was, principal) && ownerFieldsOf(draft) !== ownerFieldsOf(draftOf(was)))
      throw ownerOnly('rename it, or change who sees or edits it');
    await this.validate({ kind: was.kind, draft, principal, owner: was.owner, segmentId: was.id });
    const next = revised(was, definitionFields(was.kind, draft));
    const ruleChanged = JSON.stringify(ruleJson(was)) !== JSON.stringify(ruleJson(next));
    if (ruleChanged && was.kind === SegmentKind.DYNAMIC && was.state !== SegmentState.DRAFT)
      next.state = SegmentState.COMPUTING;
    const tooLarge = definitionSizeViolations(next, this.limits);
    if (tooLarge.length > 0) throw SegmentError.invalid(tooLarge);
    if (audienceKey(was) !== audienceKey(next)) await this.checkUsersStillSee(next, principal);
    return next;
  }

  /**
   * Making a segment private, or hiding it from more people, is refused while a segment that
   * uses it is seen by someone it would be hidden from (its members would reach them).
   */
  private async checkUsersStillSee(next: Segment, principal: Principal): Promise<void> {
    const referencing = await this.segments.findReferencing(next.id);
    const wider = referencing.filter(
      ({ segment }) =>
        !seenByEveryoneWhoSees({
          target: next,
          referrer: segment,
          referrerOwnerGroups: segment.owner === principal.subject ? principal.groups : [],
        }),
    );
    if (wider.length === 0) return;
    const usages = wider.map(({ segment }) => segmentUsage(segment, principal));
    throw new SegmentError(
      ErrorKind.FailedPrecondition,
      SegmentErrorCode.InUse,
      `segment ${next.id} is used by ${describeUsages(usages)}, seen by people it would be hidden from; change what uses it first`,
      [
        {
          field: 'segment.visibility',
          description: `would hide it from people who see ${describeUsages(usages)}`,
        },
      ],
    );
  }

  private async validate({
    kind,
    draft,
    principal,
    owner,
    segmentId,
  }: {
    kind: SegmentKind;
    draft: SegmentDraft;
    principal: Principal;
    /** The segment's owner (the caller, when creating). */
    owner: string;
    segmentId?: string;
  }) {
    const violations = draftViolations({ kind, draft, limits: this.limits });
    if (kind === SegmentKind.DYNAMIC && draft.rule) {
      violations.push(
        ...(await this.ruleViolations({
          rule: draft.rule,
          audience: draft.audience,
          principal,
          prefix: 'segment.rule',
          referrer: {
            owner,
            visibility:
              draft.visibility === Visibility.SHARED ? Visibility.SHARED : Visibility.PRIVATE,
            hiddenFrom: draft.hiddenFrom,
          },
          ...(segmentId ? { segmentId } : {}),
        })),
      );
    }
    if (violations.length > 0) throw SegmentError.invalid(violations);
  }

  /** Commits `next` as the version after `current`: history entry, CAS write, publish. */
  private async commit(
    current: StoredSegment,
    next: Segment,
    action: ChangeAction,
    principal: Principal,
    extra: {
      deleted?: boolean;
      revertedTo?: bigint;
      destinations?: readonly DestinationUse[];
    } = {},
  ): Promise<Segment> {
    const segment = revised(next, {
      version: current.segment.version + 1n,
      updatedAt: timestampFromDate(this.clock.now()),
      updatedBy: principal.subject,
    });
    const pending = this.pendingChange(
      current.segment,
      segment,
      action,
      principal,
      extra.revertedTo,
    );
    const stored: StoredSegment = {
      segment,
      references: referencesOf(segment.rule),
      destinations: extra.destinations ?? current.destinations,
      deleted: extra.deleted ?? false,
    };
    const outcome = await this.segments.replace(Number(current.segment.version), stored, pending);
    if (outcome === 'name-taken') throw nameTaken(segment.name);
    if (outcome === 'conflict') {
      const latest = await this.segments.findById(segment.id);
      throw SegmentError.versionConflict(
        segment.id,
        current.segment.version,
        latest?.segment.version ?? 0n,
      );
    }
    await this.segments.saveVersion(pending);
    this.changes.changed();
    return segment;
  }

  private pendingChange(
    before: Segment | undefined,
    after: Segment,
    action: ChangeAction,
    principal: Principal,
    revertedTo?: bigint,
  ): PendingChange {
    const change = create(SegmentChangeSchema, {
      version: after.version,
      action,
      changedBy: principal.subject,
      changedAt: after.updatedAt,
      fields: fieldChanges(before, after),
      ruleDiff: ruleDiff(ruleJson(before), ruleJson(after)),
      ...(revertedTo ? { revertedTo } : {}),
    });
    return { version: Number(after.version), snapshot: after, change };
  }

  /** A segment the caller may see, deleted or not (its history stays readable until purged). */
  private async readable(id: string, principal: Principal): Promise<StoredSegment> {
    if (!id) throw SegmentError.invalid([{ field: 'id', description: 'is required' }]);
    const stored = await this.segments.findById(id);
    if (!stored || !canSee(stored.segment, principal)) throw SegmentError.notFound(id);
    return stored;
  }

  /** A live segment the caller may see; NOT_FOUND otherwise (whether absent or hidden). */
  private async visible(id: string, principal: Principal): Promise<StoredSegment> {
    const stored = await this.readable(id, principal);
    if (stored.deleted) throw SegmentError.notFound(id);
    return stored;
  }

  /** A segment the caller may change now: visible, theirs to edit, at the expected version, not locked. */
  private async editable(
    id: string,
    expectedVersion: bigint,
    principal: Principal,
  ): Promise<StoredSegment> {
    const stored = await this.visible(id, principal);
    if (!canEdit(stored.segment, principal)) throw notEditor();
    checkVersion(stored, expectedVersion);
    if (stored.segment.lock?.locked) {
      throw new SegmentError(
        ErrorKind.FailedPrecondition,
        SegmentErrorCode.Locked,
        `segment ${id} is locked while auto-syncing destinations use it (${stored.segment.lock.destinationIds.join(', ')})`,
      );
    }
    return stored;
  }

  /** The live segments (and lists) a rule reads, directly or through other segments. */
  private async referenceClosure(rule: Rule): Promise<Map<string, StoredSegment>> {
    const found = new Map<string, StoredSegment>();
    let frontier = referencesOf(rule);
    while (frontier.length > 0) {
      const fetched = await this.segments.findByIds(frontier.filter((id) => !found.has(id)));
      const next: string[] = [];
      for (const [id, stored] of fetched) {
        found.set(id, stored);
        if (!stored.deleted)
          next.push(...referencesOf(stored.segment.rule).filter((r) => !found.has(r)));
      }
      frontier = [...new Set(next)];
    }
    return found;
  }
}

type SegmentInit = MessageInitShape<typeof SegmentSchema>;

/** Whose eyes a definition is for: its owner, and everyone else when shared and not hidden. */
type AudienceOf = Pick<Segment, 'owner' | 'visibility'> & { hiddenFrom?: HiddenFrom | undefined };

const PENDING = create(PublicationSchema, { state: PublicationState.PENDING });

/** The segment as answered: with where publishing its definition stands (never published). */
function withPublication(segment: Segment, publication: Publication | undefined): Segment {
  return publication ? revised(segment, { publication }) : segment;
}

/** Who sees a segment, comparable: private, or shared and hidden from whom. */
function audienceKey(segment: Pick<Segment, 'visibility' | 'hiddenFrom'>): string {
  if (segment.visibility !== Visibility.SHARED) return 'private';
  const sorted = (list: readonly string[] | undefined) => [...(list ?? [])].sort();
  return JSON.stringify([sorted(segment.hiddenFrom?.subjects), sorted(segment.hiddenFrom?.groups)]);
}

/** What only the owner may change: the name, and who sees and who edits the segment. */
function ownerFieldsOf(draft: SegmentDraft): string {
  return JSON.stringify([
    draft.name.trim(),
    audienceKey(draft),
    [...(draft.editors?.subjects ?? [])],
    [...(draft.editors?.groups ?? [])],
  ]);
}

/** A segment using another: one the caller cannot see counts, but nothing about it is told. */
function segmentUsage(segment: Segment, principal: Principal): SegmentUsage {
  return create(
    SegmentUsageSchema,
    canSee(segment, principal)
      ? { kind: UsageKind.SEGMENT, id: segment.id, name: segment.name }
      : { kind: UsageKind.SEGMENT },
  );
}

/** Usages in a message: segments the caller sees by name, the others only counted. */
function describeUsages(usages: readonly SegmentUsage[]): string {
  const named = usages
    .filter((u) => u.id !== '')
    .map(
      (u) =>
        `${u.kind === UsageKind.SEGMENT ? 'segment' : 'destination'} ${u.name ? `"${u.name}" (${u.id})` : u.id}`,
    );
  const unseen = usages.length - named.length;
  if (unseen > 0) named.push(`${unseen} segment${unseen === 1 ? '' : 's'} you cannot see`);
  return named.join(', ');
}

/** A new Segment message from an existing one with some fields changed (nested ones re-created). */
function revised(was: Segment, changes: SegmentInit): Segment {
  const { $typeName: _type, $unknown: _unknown, ...fields } = was;
  return create(SegmentSchema, { ...fields, ...changes } as SegmentInit);
}

function fieldsOfRule(rule: Rule) {
  const { $typeName: _type, $unknown: _unknown, ...fields } = rule;
  return fields;
}

function emptyDraft(): SegmentDraft {
  return draftOf(create(SegmentSchema, {}));
}

function initialState(kind: SegmentKind): SegmentState {
  return kind === SegmentKind.DYNAMIC ? SegmentState.COMPUTING : SegmentState.READY;
}

/** The definition fields of a segment from a (validated) draft. */
function definitionFields(kind: SegmentKind, draft: SegmentDraft): SegmentInit {
  const audience = draft.audience === Audience.ACCOUNTS ? Audience.ACCOUNTS : Audience.PROFILES;
  const dynamic = kind === SegmentKind.DYNAMIC;
  return {
    name: draft.name.trim(),
    description: draft.description,
    tags: [...draft.tags],
    audience,
    rule: dynamic && draft.rule ? { ...fieldsOfRule(draft.rule), audience } : undefined,
    refresh: dynamic
      ? (draft.refresh ?? { mode: RefreshMode.REALTIME, cron: '', timeZone: '' })
      : undefined,
    reentry: dynamic ? draft.reentry : undefined,
    visibility: draft.visibility === Visibility.SHARED ? Visibility.SHARED : Visibility.PRIVATE,
    hiddenFrom: draft.hiddenFrom,
    editors: draft.editors,
  };
}

/** Segment and list ids a rule reads (what makes it a "usage" of them). */
function referencesOf(rule: Rule | undefined): string[] {
  return rule ? [...new Set(membershipReferences(rule).map((r) => r.segmentId))] : [];
}

function maskFields(mask: readonly string[]): MaskField[] {
  if (mask.length === 0) return [...MASKABLE];
  const v = new Violations();
  const fields = mask.map((path, i) => {
    const camel = path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as MaskField;
    if (!MASKABLE.includes(camel))
      v.add(`updateMask.paths[${i}]`, `"${path}" is not a field of SegmentDraft`);
    return camel;
  });
  v.throwIfAny();
  return fields;
}

function checkVersion(stored: StoredSegment, expected: bigint): void {
  if (expected <= 0n)
    throw SegmentError.invalid([
      { field: 'expectedVersion', description: 'is required (the version you read)' },
    ]);
  if (stored.segment.version !== expected)
    throw SegmentError.versionConflict(stored.segment.id, expected, stored.segment.version);
}

function nameTaken(name: string): DomainError {
  return new SegmentError(
    ErrorKind.AlreadyExists,
    SegmentErrorCode.NameTaken,
    `you already have a segment named "${name}"`,
  );
}

function notEditor(): DomainError {
  return new SegmentError(
    ErrorKind.PermissionDenied,
    SegmentErrorCode.EditorsOnly,
    "only the segment's owner and its editors may change it",
  );
}

function ownerOnly(what: string): DomainError {
  return new SegmentError(
    ErrorKind.PermissionDenied,
    SegmentErrorCode.OwnerOnly,
    `only the segment's owner may ${what}`,
  );
}
