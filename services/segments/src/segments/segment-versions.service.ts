import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  ChangeAction,
  type Segment,
  SegmentChangeSchema,
  type SegmentDraft,
  SegmentKind,
  SegmentSchema,
  SegmentState,
  SegmentStatus,
} from '@shoal/contracts';
import { CLOCK, type Clock, type Principal } from '@shoal/platform';
import { canEdit, canSee, isOwner } from './access';
import { draftOf, fieldChanges, ruleDiff, ruleJson } from './history';
import {
  PENDING_PUBLICATION,
  definitionFields,
  initialState,
  referencesOf,
  revised,
  sameAudience,
  sameOwnerFields,
  sameRule,
  withPublication,
} from './segment-definitions';
import { newSegmentId } from './segment-ids';
import { SEGMENT_LIMITS, type SegmentLimits } from './segment-limits';
import { SegmentRulesService } from './segment-rules.service';
import { definitionSizeViolations } from './segment-validation';
import { SegmentError } from './segments.errors';
import {
  type DestinationUse,
  type PendingChange,
  SEGMENT_REPOSITORY,
  type SegmentRepositoryPort,
  type StoredSegment,
} from './segments.repository.port';

/** Told after every committed change, so the change is recorded and published promptly. */
export interface SegmentChangeNotifier {
  changed(): void;
}
export const SEGMENT_CHANGES = Symbol('SegmentChangeNotifier');

/** What a committed change sets beside the definition. */
export interface CommitExtras {
  readonly deleted?: boolean;
  readonly revertedTo?: bigint;
  readonly destinations?: readonly DestinationUse[];
}

/**
 * The versions of segments: the current one a caller may read or change, and the next one —
 * validated, written only if the current one is still current, recorded in history and queued
 * for publication. Every change of a segment goes through here.
 */
@Injectable()
export class SegmentVersions {
  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SEGMENT_CHANGES) private readonly changes: SegmentChangeNotifier,
    private readonly rules: SegmentRulesService,
  ) {}

  /** A segment the caller may see, deleted or not (its history stays readable until purged). */
  async readable(id: string, principal: Principal): Promise<StoredSegment> {
    const stored = await this.segments.findById(id);
    if (!stored || !canSee(stored.segment, principal)) throw SegmentError.notFound(id);
    return stored;
  }

  /** A live segment the caller may see; NOT_FOUND otherwise (whether absent or hidden). */
  async visible(id: string, principal: Principal): Promise<StoredSegment> {
    const stored = await this.readable(id, principal);
    if (stored.deleted) throw SegmentError.notFound(id);
    return stored;
  }

  /** A segment the caller may change now: visible, theirs to edit, at the expected version, not locked. */
  async editable(
    id: string,
    expectedVersion: bigint,
    principal: Principal,
  ): Promise<StoredSegment> {
    const stored = await this.visible(id, principal);
    if (!canEdit(stored.segment, principal)) throw SegmentError.editorsOnly();
    atVersion(stored, expectedVersion);
    const lock = stored.segment.lock;
    if (lock?.locked) throw SegmentError.locked(id, lock.destinationIds);
    return stored;
  }

  /** Writes version 1 of a new segment from a validated draft, as the caller's. */
  async first({
    kind,
    draft,
    asDraft,
    principal,
  }: {
    kind: SegmentKind;
    draft: SegmentDraft;
    asDraft: boolean;
    principal: Principal;
  }): Promise<Segment> {
    const now = timestampFromDate(this.clock.now());
    const segment = create(SegmentSchema, {
      ...definitionFields(kind, draft),
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
    this.checkSize(segment);
    const pending = pendingChange(undefined, segment, ChangeAction.CREATED, principal);
    const stored: StoredSegment = {
      segment,
      references: referencesOf(segment.rule),
      destinations: [],
      deleted: false,
    };
    if (!(await this.segments.insert(stored, pending))) throw SegmentError.nameTaken(segment.name);
    await this.recorded(pending);
    return withPublication(segment, PENDING_PUBLICATION);
  }

  /** Validates a full draft for an existing segment and builds its next definition. */
  async revise(
    current: StoredSegment,
    draft: SegmentDraft,
    principal: Principal,
  ): Promise<Segment> {
    const was = current.segment;
    if (!isOwner(was, principal) && !sameOwnerFields(draft, draftOf(was)))
      throw SegmentError.ownerOnly('rename it, or change who sees or edits it');
    await this.rules.check({
      kind: was.kind,
      draft,
      principal,
      owner: was.owner,
      segmentId: was.id,
    });
    const next = revised(was, definitionFields(was.kind, draft));
    const ruleChanged = !sameRule(was.rule, next.rule);
    if (ruleChanged && was.kind === SegmentKind.DYNAMIC && was.state !== SegmentState.DRAFT)
      next.state = SegmentState.COMPUTING;
    this.checkSize(next);
    if (!sameAudience(was, next)) await this.rules.checkUsersStillSee(next, principal);
    return next;
  }

  /**
   * Commits `next` as the version after `current` (CAS on the version), with its history entry
   * queued for recording and publication; answered as pending publication.
   */
  async commit(
    current: StoredSegment,
    next: Segment,
    action: ChangeAction,
    principal: Principal,
    extras: CommitExtras = {},
  ): Promise<Segment> {
    const segment = revised(next, {
      version: current.segment.version + 1n,
      updatedAt: timestampFromDate(this.clock.now()),
      updatedBy: principal.subject,
    });
    const pending = pendingChange(current.segment, segment, action, principal, extras.revertedTo);
    const stored: StoredSegment = {
      segment,
      references: referencesOf(segment.rule),
      destinations: extras.destinations ?? current.destinations,
      deleted: extras.deleted ?? false,
    };
    const outcome = await this.segments.replace(Number(current.segment.version), stored, pending);
    if (outcome === 'name-taken') throw SegmentError.nameTaken(segment.name);
    if (outcome === 'conflict') {
      const latest = await this.segments.findById(segment.id);
      throw SegmentError.versionConflict(
        segment.id,
        current.segment.version,
        latest?.segment.version ?? 0n,
      );
    }
    await this.recorded(pending);
    return withPublication(segment, PENDING_PUBLICATION);
  }

  /** Records the change in history at once (the relay records it again if this is lost) and has it published. */
  private async recorded(pending: PendingChange): Promise<void> {
    await this.segments.saveVersion(pending);
    this.changes.changed();
  }

  private checkSize(segment: Segment): void {
    const tooLarge = definitionSizeViolations(segment, this.limits);
    if (tooLarge.length > 0) throw SegmentError.invalid(tooLarge);
  }
}

/** Refuses a change made from another version than the current one. */
export function atVersion(stored: StoredSegment, expected: bigint): void {
  if (stored.segment.version !== expected)
    throw SegmentError.versionConflict(stored.segment.id, expected, stored.segment.version);
}

function pendingChange(
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
