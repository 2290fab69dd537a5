import { create, toBinary } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  Audience,
  type HiddenFrom,
  type Rule,
  RuleSchema,
  type Segment,
  type SegmentDraft,
  SegmentKind,
  Visibility,
} from '@shoal/contracts';
import { CLOCK, type Clock, type FieldViolation, type Principal } from '@shoal/platform';
import { membershipReferences, nestingViolation, validateRule } from '@shoal/rules';
import { canSee, seenByEveryoneWhoSees } from './access';
import { referencesOf, ruleFor } from './segment-definitions';
import { SEGMENT_LIMITS, type SegmentLimits } from './segment-limits';
import { describeUsages, segmentUsage } from './segment-usages';
import { draftViolations, fieldPath, fieldViolations } from './segment-validation';
import { SegmentError } from './segments.errors';
import {
  SEGMENT_REPOSITORY,
  type SegmentRepositoryPort,
  type StoredSegment,
} from './segments.repository.port';

/** Whose eyes a definition is for: its owner, and everyone else when shared and not hidden. */
type AudienceOf = Pick<Segment, 'owner' | 'visibility'> & { hiddenFrom?: HiddenFrom | undefined };

/**
 * What a segment's definition may say: its fields within their limits, its rule valid, and the
 * segments and lists it uses seen by everyone who sees it; and, the other way round, who must
 * still see a segment that others use.
 */
@Injectable()
export class SegmentRulesService {
  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

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
    // every walk below recurses through the conditions: an absurd nesting stops here
    const tooDeep = nestingViolation(rule, this.limits.rule.maxDepth);
    if (tooDeep) return fieldViolations(prefix, [tooDeep]);
    const effective = ruleFor(
      rule,
      rule.audience === Audience.UNSPECIFIED ? audience : rule.audience,
    );
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
          field: fieldPath(prefix, reference.path),
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
          field: fieldPath(prefix, reference.path),
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
      ...fieldViolations(
        prefix,
        result.violations.map((v) => ({ path: v.path, message: redact(v.message) })),
      ),
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

  /** Refuses a draft with every problem at once (INVALID_ARGUMENT with each field's path). */
  async check({
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
  }): Promise<void> {
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

  /**
   * Making a segment private, or hiding it from more people, is refused while a segment that
   * uses it is seen by someone it would be hidden from (its members would reach them).
   */
  async checkUsersStillSee(next: Segment, principal: Principal): Promise<void> {
    const referencing = await this.segments.findReferencing(next.id);
    const wider = referencing.filter(
      ({ segment }) =>
        !seenByEveryoneWhoSees({
          target: next,
          referrer: segment,
          referrerOwnerGroups: segment.owner === principal.subject ? principal.groups : [],
        }),
    );
    if (wider.length > 0) {
      const usages = wider.map(({ segment }) => segmentUsage(segment, principal));
      throw SegmentError.usedWhereHidden(next.id, describeUsages(usages));
    }
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
