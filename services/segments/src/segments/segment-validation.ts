import { toBinary } from '@bufbuild/protobuf';
import {
  Audience,
  type ListSegmentsRequest,
  RefreshMode,
  type Rule,
  type Segment,
  type SegmentDraft,
  SegmentKind,
  SegmentSchema,
  SegmentStatus,
  Visibility,
} from '@shoal/contracts';
import type { FieldViolation } from '@shoal/platform';
import { pathSegments, validateReentryPolicy } from '@shoal/rules';
import { CronExpressionParser } from 'cron-parser';
import { audienceOf } from './segment-definitions';
import type { SegmentLimits } from './segment-limits';

/** How names compare: case-insensitively, after Unicode normalisation and trimming. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase();
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const CONTROL = /\p{Cc}/u;

/** The longest IANA time zone name is 30 characters. */
const TIME_ZONE_MAX_LENGTH = 64;
const CRON_MAX_LENGTH = 200;
/** A value trait is a trait path, like the paths rules write; this long at most. */
export const VALUE_TRAIT_MAX_LENGTH = 256;

/** Why a value trait path is refused, or undefined when it is a valid dotted trait path. */
export function valueTraitProblem(path: string): string | undefined {
  if (path.length > VALUE_TRAIT_MAX_LENGTH)
    return `is ${path.length} characters; at most ${VALUE_TRAIT_MAX_LENGTH}`;
  if (CONTROL.test(path) || pathSegments(path) === undefined)
    return `must be a dotted trait path without empty segments (e.g. "lifetime_value"), got "${path}"`;
  return undefined;
}

/**
 * Checks the caller-written fields of a segment (everything but the rule's own language,
 * which @shoal/rules validates). Paths are relative to the request, e.g. "segment.name".
 */
export function draftViolations({
  kind,
  draft,
  limits,
  prefix = 'segment',
}: {
  kind: SegmentKind;
  draft: SegmentDraft;
  limits: SegmentLimits;
  prefix?: string;
}): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const add = (field: string, description: string) =>
    violations.push({ field: `${prefix}.${field}`, description });

  const name = draft.name.trim();
  if (name === '') add('name', 'is required');
  else if (name.length > limits.nameMaxLength) {
    add(
      'name',
      `is ${name.length} characters; the limit SEGMENT_NAME_MAX_LENGTH is ${limits.nameMaxLength}`,
    );
  } else if (CONTROL.test(name)) add('name', 'may not contain control characters');
  if (draft.description.length > limits.descriptionMaxLength) {
    add(
      'description',
      `is ${draft.description.length} characters; the limit SEGMENT_DESCRIPTION_MAX_LENGTH is ${limits.descriptionMaxLength}`,
    );
  }
  if (draft.tags.length > limits.tagsMax) {
    add('tags', `has ${draft.tags.length} tags; the limit SEGMENT_TAGS_MAX is ${limits.tagsMax}`);
  }
  draft.tags.forEach((tag, i) => {
    if (tag.trim() === '' || tag.length > limits.tagMaxLength || CONTROL.test(tag)) {
      add(`tags[${i}]`, `must be 1–${limits.tagMaxLength} printable characters`);
    }
  });
  if (new Set(draft.tags).size !== draft.tags.length) add('tags', 'has duplicates');
  for (const [field, list] of [
    ['hiddenFrom', draft.hiddenFrom],
    ['editors', draft.editors],
  ] as const) {
    for (const part of ['subjects', 'groups'] as const) {
      const names = list?.[part] ?? [];
      if (names.length > limits.principalsMax)
        add(`${field}.${part}`, `has ${names.length} entries; at most ${limits.principalsMax}`);
      else
        names.forEach((name, i) => {
          if (name === '' || name.length > limits.principalMaxLength || CONTROL.test(name))
            add(
              `${field}.${part}[${i}]`,
              `must be 1–${limits.principalMaxLength} printable characters`,
            );
        });
    }
  }
  if (!(draft.audience in Audience)) add('audience', 'is not a known audience');
  if (!(draft.visibility in Visibility)) add('visibility', 'is not a known visibility');

  if (kind === SegmentKind.STATIC_LIST) {
    if (draft.rule) add('rule', 'a static list has no rule');
    if (draft.refresh) add('refresh', 'a static list is not refreshed');
    if (draft.reentry) add('reentry', 'a static list has no re-entry policy');
    if (draft.valueTrait !== '') add('valueTrait', 'a static list has no value trait');
  } else if (kind === SegmentKind.DYNAMIC) {
    if (!draft.rule) add('rule', 'a dynamic segment needs a rule');
    else if (!audiencesAgree(draft.audience, draft.rule)) {
      add('rule.audience', 'must match the segment’s audience (or be left unspecified)');
    }
    if (draft.refresh) {
      const { mode, cron, timeZone } = draft.refresh;
      if (!(mode in RefreshMode)) add('refresh.mode', 'is not a known refresh mode');
      if (mode === RefreshMode.SCHEDULED) {
        // no cron of its own: the segment follows the scheduler's default schedule
        const problem = cron === '' ? undefined : cronProblem(cron, timeZone);
        if (problem) add('refresh.cron', problem);
      } else if (cron !== '') add('refresh.cron', 'is only for REFRESH_MODE_SCHEDULED');
      if (timeZone.length > TIME_ZONE_MAX_LENGTH)
        add('refresh.timeZone', 'is not a known IANA time zone');
      else if (timeZone !== '' && !isValidTimeZone(timeZone))
        add('refresh.timeZone', `"${timeZone}" is not a known IANA time zone`);
    }
    if (draft.reentry)
      violations.push(
        ...fieldViolations(`${prefix}.reentry`, validateReentryPolicy(draft.reentry)),
      );
    if (draft.valueTrait !== '') {
      const problem = valueTraitProblem(draft.valueTrait);
      if (problem) add('valueTrait', problem);
    }
  } else {
    violations.push({
      field: 'kind',
      description: 'must be SEGMENT_KIND_DYNAMIC or SEGMENT_KIND_STATIC_LIST',
    });
  }
  return violations;
}

/**
 * The longest search text. The store matches it against every segment the caller may see (a
 * regular expression, compiled per document by the embedded store), so it stays short.
 */
export const SEARCH_MAX_LENGTH = 200;

/**
 * What a list query may ask: values a segment can have (declared enum values, tags and owners no
 * longer than a segment's), and no more tags or owners than a segment can carry or name.
 */
export function listViolations(
  request: Pick<
    ListSegmentsRequest,
    'search' | 'tags' | 'owners' | 'kinds' | 'refreshModes' | 'statuses' | 'visibilities'
  >,
  limits: SegmentLimits,
): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const add = (field: string, description: string) => violations.push({ field, description });
  if (request.search.length > SEARCH_MAX_LENGTH)
    add('search', `is ${request.search.length} characters; at most ${SEARCH_MAX_LENGTH}`);
  const strings = (
    field: string,
    values: readonly string[],
    { max, maxLength, limit }: { max: number; maxLength: number; limit: string },
  ) => {
    const distinct = new Set(values).size;
    if (distinct > max) add(field, `names ${distinct} ${field}; ${limit} is ${max}`);
    else
      values.forEach((value, i) => {
        if (value.length > maxLength)
          add(`${field}[${i}]`, `is longer than ${maxLength} characters`);
      });
  };
  strings('tags', request.tags, {
    max: limits.tagsMax,
    maxLength: limits.tagMaxLength,
    limit: 'the limit SEGMENT_TAGS_MAX',
  });
  strings('owners', request.owners, {
    max: limits.principalsMax,
    maxLength: limits.principalMaxLength,
    limit: 'the most a query may name',
  });
  const declared = (field: string, values: readonly number[], known: object, what: string) => {
    values.forEach((value, i) => {
      if (!(value in known)) add(`${field}[${i}]`, `is not a known ${what}`);
    });
  };
  declared('kinds', request.kinds, SegmentKind, 'segment kind');
  declared('refreshModes', request.refreshModes, RefreshMode, 'refresh mode');
  declared('statuses', request.statuses, SegmentStatus, 'segment status');
  declared('visibilities', request.visibilities, Visibility, 'visibility');
  return violations;
}

/** Longest destination id and name a destination may record on a segment. */
export const DESTINATION_ID_MAX_LENGTH = 256;
export const DESTINATION_NAME_MAX_LENGTH = 200;

/**
 * What the exporter may record about a destination: an id and a name that fit the segment's
 * document and definition (the ids of auto-syncing ones are published in its lock).
 */
export function destinationViolations({
  id,
  name,
}: {
  id: string;
  name: string;
}): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (id === '' || id.length > DESTINATION_ID_MAX_LENGTH || CONTROL.test(id))
    violations.push({
      field: 'destinationId',
      description: `must be 1–${DESTINATION_ID_MAX_LENGTH} printable characters`,
    });
  if (name.length > DESTINATION_NAME_MAX_LENGTH || CONTROL.test(name))
    violations.push({
      field: 'destinationName',
      description: `must be at most ${DESTINATION_NAME_MAX_LENGTH} printable characters`,
    });
  return violations;
}

/** The path of a field inside a part of the request (`prefix`); an empty path is the part itself. */
export function fieldPath(prefix: string, path: string): string {
  return path ? `${prefix}.${path}` : prefix;
}

/** Violations the rule language reports (paths inside a rule or policy) as violations of the request. */
export function fieldViolations(
  prefix: string,
  violations: readonly { readonly path: string; readonly message: string }[],
): FieldViolation[] {
  return violations.map((v) => ({ field: fieldPath(prefix, v.path), description: v.message }));
}

/**
 * A definition must fit the definitions topic with room to spare; its encoding as published is
 * what counts (checked once the definition is complete, so every field is included).
 */
export function definitionSizeViolations(
  segment: Segment,
  limits: Pick<SegmentLimits, 'definitionMaxBytes'>,
): FieldViolation[] {
  const bytes = toBinary(SegmentSchema, segment).length;
  if (bytes <= limits.definitionMaxBytes) return [];
  return [
    {
      field: 'segment',
      description: `the definition is ${bytes} bytes encoded; the limit SEGMENT_DEFINITION_MAX_BYTES is ${limits.definitionMaxBytes}`,
    },
  ];
}

/** A five-field cron expression ("minute hour day-of-month month day-of-week"), or why not. */
export function cronProblem(cron: string, timeZone: string): string | undefined {
  if (cron.length > CRON_MAX_LENGTH)
    return `is ${cron.length} characters; a cron expression has at most ${CRON_MAX_LENGTH}`;
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5)
    return 'needs five fields: minute hour day-of-month month day-of-week, e.g. "0 */4 * * *"';
  try {
    CronExpressionParser.parse(
      fields.join(' '),
      timeZone && isValidTimeZone(timeZone) ? { tz: timeZone } : {},
    );
    return undefined;
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message}`;
  }
}

function audiencesAgree(audience: Audience, rule: Rule): boolean {
  return (
    rule.audience === Audience.UNSPECIFIED || audienceOf(rule.audience) === audienceOf(audience)
  );
}
