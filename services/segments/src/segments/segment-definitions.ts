import { type MessageInitShape, clone, create, equals } from '@bufbuild/protobuf';
import {
  Audience,
  EditorsSchema,
  HiddenFromSchema,
  type Publication,
  PublicationSchema,
  PublicationState,
  RefreshMode,
  type Rule,
  RuleSchema,
  type Segment,
  type SegmentDraft,
  SegmentKind,
  SegmentSchema,
  SegmentState,
  Visibility,
} from '@shoal/contracts';
import { membershipReferences } from '@shoal/rules';
import { draftOf } from './history';

/** How segment definitions are built from drafts and compared; everything here is pure. */

export type SegmentInit = MessageInitShape<typeof SegmentSchema>;

/** The fields of a draft, as an update mask names them. */
export type DraftField = Exclude<keyof SegmentDraft, '$typeName' | '$unknown'>;

export const PENDING_PUBLICATION = create(PublicationSchema, { state: PublicationState.PENDING });

/** The segment as answered: with where publishing its definition stands (never published). */
export function withPublication(segment: Segment, publication: Publication | undefined): Segment {
  return publication ? revised(segment, { publication }) : segment;
}

/** A new Segment message from an existing one with some fields changed (nested ones re-created). */
export function revised(was: Segment, changes: SegmentInit): Segment {
  const { $typeName: _type, $unknown: _unknown, ...fields } = was;
  return create(SegmentSchema, { ...fields, ...changes } as SegmentInit);
}

export function emptyDraft(): SegmentDraft {
  return draftOf(create(SegmentSchema, {}));
}

/** The draft of `current` with the `fields` taken from `given` (absent: all empty). */
export function mergedDraft(
  current: Segment,
  given: SegmentDraft | undefined,
  fields: readonly DraftField[],
): SegmentDraft {
  const merged = draftOf(current);
  const source = given ?? emptyDraft();
  const take = <K extends DraftField>(field: K) => {
    merged[field] = source[field];
  };
  fields.forEach(take);
  return merged;
}

/** The state a segment starts in once active: dynamic ones compute first, lists are ready. */
export function initialState(kind: SegmentKind): SegmentState {
  return kind === SegmentKind.DYNAMIC ? SegmentState.COMPUTING : SegmentState.READY;
}

/** The audience a draft's audience stands for: an unspecified one is of profiles. */
export function audienceOf(audience: Audience): Audience {
  return audience === Audience.ACCOUNTS ? Audience.ACCOUNTS : Audience.PROFILES;
}

/** The definition fields of a segment from a (validated) draft. */
export function definitionFields(kind: SegmentKind, draft: SegmentDraft): SegmentInit {
  const audience = audienceOf(draft.audience);
  const dynamic = kind === SegmentKind.DYNAMIC;
  return {
    name: draft.name.trim(),
    description: draft.description,
    tags: [...draft.tags],
    audience,
    rule: dynamic && draft.rule ? ruleFor(draft.rule, audience) : undefined,
    refresh: dynamic
      ? (draft.refresh ?? { mode: RefreshMode.REALTIME, cron: '', timeZone: '' })
      : undefined,
    reentry: dynamic ? draft.reentry : undefined,
    valueTrait: dynamic ? draft.valueTrait : '',
    visibility: draft.visibility === Visibility.SHARED ? Visibility.SHARED : Visibility.PRIVATE,
    hiddenFrom: draft.hiddenFrom,
    editors: draft.editors,
  };
}

/** A copy of a rule for an audience. */
export function ruleFor(rule: Rule, audience: Audience): Rule {
  const copy = clone(RuleSchema, rule);
  copy.audience = audience;
  return copy;
}

/** Segment and list ids a rule reads (what makes it a "usage" of them). */
export function referencesOf(rule: Rule | undefined): string[] {
  return rule ? [...new Set(membershipReferences(rule).map((r) => r.segmentId))] : [];
}

export function sameRule(a: Rule | undefined, b: Rule | undefined): boolean {
  return a && b ? equals(RuleSchema, a, b) : a === b;
}

/** Whether two definitions are seen by the same people: both private, or shared and hidden from the same. */
export function sameAudience(
  a: Pick<Segment, 'visibility' | 'hiddenFrom'>,
  b: Pick<Segment, 'visibility' | 'hiddenFrom'>,
): boolean {
  const [x, y] = [hiddenFromOf(a), hiddenFromOf(b)];
  return x && y ? equals(HiddenFromSchema, x, y) : x === y;
}

/** Whether two drafts agree on what only the owner may change: the name, who sees it and who edits it. */
export function sameOwnerFields(a: SegmentDraft, b: SegmentDraft): boolean {
  return (
    a.name.trim() === b.name.trim() &&
    sameAudience(a, b) &&
    equals(EditorsSchema, editorsOf(a), editorsOf(b))
  );
}

/** Who a shared definition is hidden from, in a comparable order; undefined when private. */
function hiddenFromOf(segment: Pick<Segment, 'visibility' | 'hiddenFrom'>) {
  if (segment.visibility !== Visibility.SHARED) return undefined;
  return create(HiddenFromSchema, {
    subjects: [...(segment.hiddenFrom?.subjects ?? [])].sort(),
    groups: [...(segment.hiddenFrom?.groups ?? [])].sort(),
  });
}

function editorsOf(draft: SegmentDraft) {
  return create(EditorsSchema, {
    subjects: [...(draft.editors?.subjects ?? [])],
    groups: [...(draft.editors?.groups ?? [])],
  });
}
