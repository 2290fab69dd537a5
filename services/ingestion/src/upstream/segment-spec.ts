import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AliasPayloadSchema,
  GroupPayloadSchema,
  IdentifyPayloadSchema,
  PagePayloadSchema,
  ScreenPayloadSchema,
  TrackPayloadSchema,
  type UpstreamEvent,
  UpstreamEventSchema,
} from '@shoal/contracts';
import { type FieldViolation, Violations } from '@shoal/platform';
import { z } from 'zod';
import { MAX_ID_LENGTH, type UpstreamRules, checkUpstreamContent } from './upstream-event';
import { checkFreeForm, childPath } from './upstream-record-limits';

type JsonObject = { [key: string]: JsonValue };
type JsonValue = string | number | boolean | null | JsonObject | JsonValue[];

/** The Segment spec's calls Shoal records; anything else is refused. */
export const SEGMENT_CALLS = ['track', 'identify', 'group', 'alias', 'page', 'screen'] as const;

const missing = (value: unknown) => (value === null || value === '' ? undefined : value);

/** An id as upstream libraries send it: a string, or a number (made a string), at most 256 characters. */
const id = z
  .union([z.string(), z.number().transform(String)], {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string'),
  })
  .pipe(z.string().max(MAX_ID_LENGTH, { error: `is longer than ${MAX_ID_LENGTH} characters` }));
const requiredId = z.preprocess(missing, id);
const optionalId = z.preprocess(missing, id.optional());

const instant = z
  .string({ error: 'must be an ISO-8601 date-time string' })
  .refine((text) => !Number.isNaN(Date.parse(text)), {
    error: 'must be an ISO-8601 date-time string',
  })
  .transform((text) => new Date(text));

const jsonObject = z.custom<JsonObject>(isObject, { error: 'must be a JSON object' });

/** A page or screen name or category: optional, at most 256 characters. */
const label = z.preprocess(
  missing,
  z
    .string({ error: 'must be a string' })
    .max(MAX_ID_LENGTH, { error: `is longer than ${MAX_ID_LENGTH} characters` })
    .optional(),
);

/** The fields every Segment-spec message has. */
const commonFields = z.object({
  type: z.enum(SEGMENT_CALLS, {
    error: (issue) =>
      `must be one of ${SEGMENT_CALLS.join(', ')}; got ${JSON.stringify(issue.input ?? null)}`,
  }),
  messageId: requiredId,
  userId: optionalId,
  anonymousId: optionalId,
  timestamp: z.preprocess((v) => (v === null ? undefined : v), instant.optional()),
  sentAt: z.preprocess((v) => (v === null ? undefined : v), instant.optional()),
  context: z.preprocess((v) => (v === null ? undefined : v), jsonObject.optional()),
});

const freeForm = z.preprocess((v) => (v === null ? undefined : v), jsonObject.optional());

/** The fields of each call, by `type`. */
const callFields = {
  track: z.object({
    event: z
      .string({ error: 'track needs a non-empty event name' })
      .trim()
      .min(1, { error: 'track needs a non-empty event name' })
      .max(MAX_ID_LENGTH, { error: `is longer than ${MAX_ID_LENGTH} characters` }),
    properties: freeForm,
  }),
  identify: z.object({ traits: freeForm }),
  group: z.object({ groupId: requiredId, traits: freeForm }),
  alias: z.object({ previousId: requiredId }),
  page: z.object({ name: label, category: label, properties: freeForm }),
  screen: z.object({ name: label, category: label, properties: freeForm }),
} as const;

type Common = z.output<typeof commonFields>;
type CallOf<K extends keyof typeof callFields> = z.output<(typeof callFields)[K]>;

export type ParsedEvent =
  { ok: true; event: UpstreamEvent } | { ok: false; violations: readonly FieldViolation[] };

/**
 * Parses one Segment-spec message (the JSON upstream libraries already emit) into an
 * UpstreamEvent, collecting every problem with its field path. `receivedAt` stands in for a
 * missing timestamp, as Segment does. Content is checked against `rules` (free-form limits,
 * timestamps, reserved and identifier traits) as for the protobuf form, with JSON paths.
 */
export function parseSegmentSpec(
  input: unknown,
  receivedAt: Date,
  rules: UpstreamRules,
): ParsedEvent {
  const v = new Violations();
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { ok: false, violations: v.add('', 'must be a JSON object').all };

  const common = commonFields.safeParse(input);
  if (!common.success) addIssues(common.error, v);
  const type = (input as { type?: unknown }).type;
  const call = isCall(type) ? callFields[type].safeParse(input) : undefined;
  if (call && !call.success) addIssues(call.error, v);

  const fields = input as Record<string, unknown>;
  if (missing(fields.userId) === undefined && missing(fields.anonymousId) === undefined)
    v.add('userId', 'userId or anonymousId is required');
  if (type === 'alias' && missing(fields.userId) === undefined)
    v.add('userId', 'alias needs the new userId');
  if (!common.success || !call?.success) {
    // what can be checked of the free-form objects still is, so every problem is told at once
    const objects = ['context', 'properties', 'traits'].filter((f) => isObject(fields[f]));
    checkFreeForm(
      objects.map((f) => [f, fields[f]]),
      rules.limits,
      v,
    );
    return { ok: false, violations: v.all };
  }

  const event = toUpstreamEvent(common.data, call.data, receivedAt);
  checkUpstreamContent(event, receivedAt, rules, 'json', v);
  return v.empty ? { ok: true, event } : { ok: false, violations: v.all };
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCall(type: unknown): type is keyof typeof callFields {
  return typeof type === 'string' && type in callFields;
}

function toUpstreamEvent(
  common: Common,
  call: CallOf<keyof typeof callFields>,
  receivedAt: Date,
): UpstreamEvent {
  const event = create(UpstreamEventSchema, {
    messageId: common.messageId,
    userId: common.userId ?? '',
    anonymousId: common.anonymousId ?? '',
    timestamp: timestampFromDate(common.timestamp ?? receivedAt),
    receivedAt: timestampFromDate(receivedAt),
    ...(common.sentAt ? { sentAt: timestampFromDate(common.sentAt) } : {}),
    ...(common.context ? { context: common.context } : {}),
  });
  event.payload = payloadOf(common.type, call);
  return event;
}

function payloadOf(
  type: Common['type'],
  fields: CallOf<keyof typeof callFields>,
): UpstreamEvent['payload'] {
  switch (type) {
    case 'track': {
      const { event, properties } = fields as CallOf<'track'>;
      return {
        case: 'track',
        value: create(TrackPayloadSchema, { event, ...(properties ? { properties } : {}) }),
      };
    }
    case 'identify': {
      const { traits } = fields as CallOf<'identify'>;
      return { case: 'identify', value: create(IdentifyPayloadSchema, traits ? { traits } : {}) };
    }
    case 'group': {
      const { groupId, traits } = fields as CallOf<'group'>;
      return {
        case: 'group',
        value: create(GroupPayloadSchema, { groupId, ...(traits ? { traits } : {}) }),
      };
    }
    case 'alias': {
      const { previousId } = fields as CallOf<'alias'>;
      return { case: 'alias', value: create(AliasPayloadSchema, { previousId }) };
    }
    case 'page':
    case 'screen': {
      const { name, category, properties } = fields as CallOf<'page'>;
      const init = {
        name: name ?? '',
        category: category ?? '',
        ...(properties ? { properties } : {}),
      };
      return type === 'page'
        ? { case: 'page', value: create(PagePayloadSchema, init) }
        : { case: 'screen', value: create(ScreenPayloadSchema, init) };
    }
  }
}

/** Zod's issues as field violations, with the same path notation as the free-form checks. */
function addIssues(error: z.ZodError, v: Violations): void {
  for (const issue of error.issues) {
    const field = issue.path.reduce<string>(
      (path, key) =>
        typeof key === 'number'
          ? `${path}[${key}]`
          : path
            ? childPath(path, String(key))
            : String(key),
      '',
    );
    v.add(field, issue.message);
  }
}
