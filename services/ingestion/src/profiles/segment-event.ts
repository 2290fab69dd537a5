import { create } from '@bufbuild/protobuf';
import { type Timestamp, timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AliasPayloadSchema,
  GroupPayloadSchema,
  IdentifyPayloadSchema,
  TrackPayloadSchema,
  type UpstreamEvent,
  UpstreamEventSchema,
} from '@shoal/contracts';
import { type FieldViolation, Violations } from '@shoal/platform';

type JsonObject = { [key: string]: JsonValue };
type JsonValue = string | number | boolean | null | JsonObject | JsonValue[];

const SUPPORTED_TYPES = ['track', 'identify', 'group', 'alias'] as const;
const MAX_ID_LENGTH = 256;

export type ParsedEvent =
  { ok: true; event: UpstreamEvent } | { ok: false; violations: readonly FieldViolation[] };

/**
 * Parses one Segment-spec message (the JSON upstream libraries already emit) into an
 * UpstreamEvent, collecting every problem with its field path. `receivedAt` stands in for a
 * missing timestamp, as Segment does.
 */
export function parseSegmentEvent(input: unknown, receivedAt: Date): ParsedEvent {
  const v = new Violations();
  if (!isObject(input)) return { ok: false, violations: v.add('', 'must be a JSON object').all };

  const type = input.type;
  if (typeof type !== 'string' || !(SUPPORTED_TYPES as readonly string[]).includes(type)) {
    v.add(
      'type',
      `must be one of ${SUPPORTED_TYPES.join(', ')}; got ${JSON.stringify(type ?? null)}`,
    );
  }
  const messageId = identifier(input, 'messageId', v, true);
  const userId = identifier(input, 'userId', v, false);
  const anonymousId = identifier(input, 'anonymousId', v, false);
  if (
    !userId &&
    !anonymousId &&
    !v.all.some((x) => x.field === 'userId' || x.field === 'anonymousId')
  ) {
    v.add('userId', 'userId or anonymousId is required');
  }
  const timestamp = instant(input, 'timestamp', v) ?? timestampFromDate(receivedAt);
  const sentAt = instant(input, 'sentAt', v);
  const context = object(input, 'context', v);

  const event = create(UpstreamEventSchema, {
    messageId,
    userId,
    anonymousId,
    timestamp,
    receivedAt: timestampFromDate(receivedAt),
    ...(sentAt ? { sentAt } : {}),
    ...(context ? { context } : {}),
  });

  switch (type) {
    case 'track': {
      const name = input.event;
      if (typeof name !== 'string' || name.trim() === '')
        v.add('event', 'track needs a non-empty event name');
      const properties = object(input, 'properties', v);
      event.payload = {
        case: 'track',
        value: create(TrackPayloadSchema, {
          event: String(name ?? ''),
          ...(properties ? { properties } : {}),
        }),
      };
      break;
    }
    case 'identify': {
      const traits = traitsOf(input, 'traits', v);
      event.payload = {
        case: 'identify',
        value: create(IdentifyPayloadSchema, traits ? { traits } : {}),
      };
      break;
    }
    case 'group': {
      const groupId = identifier(input, 'groupId', v, true);
      const traits = traitsOf(input, 'traits', v);
      event.payload = {
        case: 'group',
        value: create(GroupPayloadSchema, { groupId, ...(traits ? { traits } : {}) }),
      };
      break;
    }
    case 'alias': {
      const previousId = identifier(input, 'previousId', v, true);
      if (!userId) v.add('userId', 'alias needs the new userId');
      event.payload = { case: 'alias', value: create(AliasPayloadSchema, { previousId }) };
      break;
    }
  }
  return v.empty ? { ok: true, event } : { ok: false, violations: v.all };
}

/** Checks a protobuf-encoded event with the same rules as the JSON form. */
export function validateUpstreamEvent(event: UpstreamEvent): readonly FieldViolation[] {
  const v = new Violations();
  if (!event.messageId) v.add('messageId', 'is required');
  if (!event.userId && !event.anonymousId) v.add('userId', 'userId or anonymousId is required');
  if (event.messageId.length > MAX_ID_LENGTH)
    v.add('messageId', `is longer than ${MAX_ID_LENGTH} characters`);
  switch (event.payload.case) {
    case 'track':
      if (!event.payload.value.event.trim())
        v.add('track.event', 'track needs a non-empty event name');
      break;
    case 'identify':
      checkTraitNames(event.payload.value.traits, 'identify.traits', v);
      break;
    case 'group':
      if (!event.payload.value.groupId) v.add('group.groupId', 'is required');
      checkTraitNames(event.payload.value.traits, 'group.traits', v);
      break;
    case 'alias':
      if (!event.payload.value.previousId) v.add('alias.previousId', 'is required');
      if (!event.userId) v.add('userId', 'alias needs the new userId');
      break;
    case undefined:
      v.add('payload', 'one of track, identify, group, alias is required');
      break;
  }
  return v.all;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function identifier(
  input: Record<string, unknown>,
  field: string,
  v: Violations,
  required: boolean,
): string {
  const value = input[field];
  if (value === undefined || value === null || value === '') {
    if (required) v.add(field, 'is required');
    return '';
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    v.add(field, 'must be a string');
    return '';
  }
  const text = String(value);
  if (text.length > MAX_ID_LENGTH) v.add(field, `is longer than ${MAX_ID_LENGTH} characters`);
  return text;
}

function instant(
  input: Record<string, unknown>,
  field: string,
  v: Violations,
): Timestamp | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    v.add(field, 'must be an ISO-8601 date-time string');
    return undefined;
  }
  return timestampFromDate(date);
}

function object(
  input: Record<string, unknown>,
  field: string,
  v: Violations,
): JsonObject | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    v.add(field, 'must be a JSON object');
    return undefined;
  }
  return value as JsonObject;
}

function traitsOf(
  input: Record<string, unknown>,
  field: string,
  v: Violations,
): JsonObject | undefined {
  const traits = object(input, field, v);
  checkTraitNames(traits, field, v);
  return traits;
}

/** Trait names become field names in the store: no ".", no leading "$". */
function checkTraitNames(traits: JsonObject | undefined, path: string, v: Violations): void {
  for (const name of Object.keys(traits ?? {})) {
    if (name === '' || name.includes('.') || name.startsWith('$')) {
      v.add(`${path}.${name}`, 'trait names may not be empty, contain "." or start with "$"');
    }
  }
}
