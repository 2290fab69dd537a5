import { Audience, type Condition, type Rule } from '@shoal/contracts';
import {
  RuleError,
  RuleErrorCode,
  RuleViolationCode,
  assertNever,
  type RuleViolation,
} from './errors';

// Segment references: which segments a rule reads, whether references would form a cycle, and
// the order in which segments must be evaluated (a segment after every segment it reads).

/** The current rule of a segment by id; undefined when no such segment exists. */
export type RuleLookup = (segmentId: string) => Rule | undefined;

/** A segment or static list referenced by a rule, where, and from which audience context. */
export interface MembershipReference {
  readonly kind: 'segment' | 'list';
  /** The referenced segment's or list's id. */
  readonly segmentId: string;
  readonly path: string;
  /** The audience of the subject the reference is tested on (contacts' conditions test profiles). */
  readonly audience: 'profiles' | 'accounts';
}

/** A reference to another segment (in_segment / not_in_segment). */
export type SegmentReference = MembershipReference & { readonly kind: 'segment' };

function audienceOf(rule: Rule): 'profiles' | 'accounts' {
  return rule.audience === Audience.ACCOUNTS ? 'accounts' : 'profiles';
}

/**
 * Every segment and static list a rule reads, found by walking its structure only (it works on
 * rules that do not validate, so services can check references alongside validation).
 */
export function membershipReferences(rule: Rule): MembershipReference[] {
  const references: MembershipReference[] = [];
  const visit = (condition: Condition, path: string, audience: 'profiles' | 'accounts'): void => {
    const kind = condition.kind;
    switch (kind.case) {
      case 'all':
      case 'any':
      case 'none':
        kind.value.conditions.forEach((child, index) =>
          visit(child, `${path}.${kind.case}.conditions[${index}]`, audience),
        );
        return;
      case 'inSegment':
      case 'notInSegment':
        references.push({
          kind: 'segment',
          segmentId: kind.value,
          path: `${path}.${kind.case}`,
          audience,
        });
        return;
      case 'inList':
      case 'notInList':
        references.push({
          kind: 'list',
          segmentId: kind.value,
          path: `${path}.${kind.case}`,
          audience,
        });
        return;
      case 'contacts':
        if (kind.value.where !== undefined)
          visit(kind.value.where, `${path}.contacts.where`, 'profiles');
        return;
      case 'trait':
      case 'event':
      case 'sequence':
      case 'hasTag':
      case 'lacksTag':
      case undefined:
        return;
      default:
        assertNever(kind, 'condition');
    }
  };
  if (rule.condition !== undefined) visit(rule.condition, 'condition', audienceOf(rule));
  return references;
}

export function segmentReferences(rule: Rule): SegmentReference[] {
  return membershipReferences(rule).filter((r): r is SegmentReference => r.kind === 'segment');
}

/**
 * Violations of a rule's segment references: unknown segments, segments of the other audience,
 * and references through which the segment `segmentId` (the rule's own) would depend on itself.
 */
export function checkSegmentReferences({
  rule,
  segmentId,
  lookupRule,
}: {
  rule: Rule;
  segmentId?: string;
  lookupRule: RuleLookup;
}): RuleViolation[] {
  const violations: RuleViolation[] = [];
  for (const reference of segmentReferences(rule)) {
    const referenced = reference.segmentId === segmentId ? rule : lookupRule(reference.segmentId);
    if (referenced === undefined) {
      violations.push({
        path: reference.path,
        code: RuleViolationCode.UnknownSegment,
        message: `segment "${reference.segmentId}" does not exist`,
      });
      continue;
    }
    if (audienceOf(referenced) !== reference.audience) {
      violations.push({
        path: reference.path,
        code: RuleViolationCode.AudienceMismatch,
        message: `segment "${reference.segmentId}" selects ${audienceOf(referenced)}, but it is tested on ${reference.audience} here`,
      });
    }
    if (segmentId === undefined) continue;
    const cycle = pathBack({ from: reference.segmentId, to: segmentId, lookupRule });
    if (cycle !== undefined) {
      violations.push({
        path: reference.path,
        code: RuleViolationCode.SegmentCycle,
        message: `segment references form a cycle: ${[segmentId, ...cycle].join(' → ')}`,
      });
    }
  }
  return violations;
}

/** A chain of references from `from` to `to` (both included), or undefined. */
function pathBack({
  from,
  to,
  lookupRule,
}: {
  from: string;
  to: string;
  lookupRule: RuleLookup;
}): string[] | undefined {
  const visited = new Set<string>();
  const search = (at: string): string[] | undefined => {
    if (at === to) return [at];
    if (visited.has(at)) return undefined;
    visited.add(at);
    const rule = lookupRule(at);
    if (rule === undefined) return undefined;
    for (const reference of segmentReferences(rule)) {
      const rest = search(reference.segmentId);
      if (rest !== undefined) return [at, ...rest];
    }
    return undefined;
  };
  return search(from);
}

/**
 * The segments in an order where each comes after every segment it references (so one pass
 * re-evaluates dependents after their dependencies). Throws RuleError on a cycle.
 */
export function evaluationOrder(rules: ReadonlyMap<string, Rule>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): void => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      throw new RuleError(
        RuleErrorCode.SegmentCycle,
        `segment references form a cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' → ')}`,
      );
    }
    state.set(id, 'visiting');
    const rule = rules.get(id);
    for (const reference of rule === undefined ? [] : segmentReferences(rule)) {
      if (rules.has(reference.segmentId)) visit(reference.segmentId, [...trail, id]);
    }
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of [...rules.keys()].sort()) visit(id, []);
  return order;
}
