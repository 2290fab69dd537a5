import { isDeepStrictEqual } from 'node:util';
import { type JsonValue, create, fromJson, toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  type FieldChange,
  FieldChangeSchema,
  type RuleDiffEntry,
  RuleDiffEntrySchema,
  RuleDiffKind,
  type Segment,
  RuleSchema,
  SegmentDraftSchema,
  SegmentSchema,
} from '@shoal/contracts';

/** The definition fields whose changes history records (those a caller or a destination sets). */
const TRACKED_FIELDS = [
  'name',
  'description',
  'tags',
  'audience',
  'refresh',
  'reentry',
  'valueTrait',
  'status',
  'visibility',
  'hiddenFrom',
  'editors',
  'lock',
] as const;

type Json = { [key: string]: JsonValue };

function jsonOf(segment: Segment): Json {
  return toJson(SegmentSchema, segment, { alwaysEmitImplicit: true }) as Json;
}

/** Before/after of every tracked field that differs (the rule is diffed structurally instead). */
export function fieldChanges(before: Segment | undefined, after: Segment): FieldChange[] {
  const a = before ? jsonOf(before) : {};
  const b = jsonOf(after);
  const changes: FieldChange[] = [];
  for (const field of TRACKED_FIELDS) {
    const was = a[field] ?? null;
    const now = b[field] ?? null;
    if (!isDeepStrictEqual(was, now)) {
      changes.push(create(FieldChangeSchema, { field, before: valueOf(was), after: valueOf(now) }));
    }
  }
  return changes;
}

/**
 * The structural difference between two rules in their JSON form: each added, removed or
 * changed leaf or subtree, addressed by its path (e.g. "condition.all.conditions[1].event.name").
 */
export function ruleDiff(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  path = '',
): RuleDiffEntry[] {
  const entry = (
    kind: RuleDiffKind,
    was: JsonValue | undefined,
    now: JsonValue | undefined,
  ): RuleDiffEntry =>
    create(RuleDiffEntrySchema, {
      path,
      kind,
      before: valueOf(was ?? null),
      after: valueOf(now ?? null),
    });
  if (isDeepStrictEqual(before ?? null, after ?? null)) return [];
  if (before === undefined || before === null) return [entry(RuleDiffKind.ADDED, undefined, after)];
  if (after === undefined || after === null)
    return [entry(RuleDiffKind.REMOVED, before, undefined)];
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: RuleDiffEntry[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++)
      out.push(...ruleDiff(before[i], after[i], `${path}[${i}]`));
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const out: RuleDiffEntry[] = [];
    for (const key of keys)
      out.push(...ruleDiff(before[key], after[key], path ? `${path}.${key}` : key));
    return out;
  }
  return [entry(RuleDiffKind.CHANGED, before, after)];
}

export function ruleJson(segment: Segment | undefined): JsonValue | undefined {
  return segment?.rule ? toJson(RuleSchema, segment.rule) : undefined;
}

/** The caller-written part of a segment, for duplicating and reverting. */
export function draftOf(segment: Segment) {
  return create(SegmentDraftSchema, {
    name: segment.name,
    description: segment.description,
    tags: [...segment.tags],
    audience: segment.audience,
    ...(segment.rule ? { rule: segment.rule } : {}),
    ...(segment.refresh ? { refresh: segment.refresh } : {}),
    ...(segment.reentry ? { reentry: segment.reentry } : {}),
    valueTrait: segment.valueTrait,
    visibility: segment.visibility,
    ...(segment.hiddenFrom ? { hiddenFrom: segment.hiddenFrom } : {}),
    ...(segment.editors ? { editors: segment.editors } : {}),
  });
}

function valueOf(json: JsonValue) {
  return fromJson(ValueSchema, json);
}

function isObject(value: JsonValue | undefined): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
