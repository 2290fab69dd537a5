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
import { type UpstreamLimits, checkFreeForm } from './upstream-record-limits';

type JsonObject = { [key: string]: JsonValue };
type JsonValue = string | number | boolean | null | JsonObject | JsonValue[];

const SUPPORTED_TYPES = ['track', 'identify', 'group', 'alias'] as const;
const MAX_ID_LENGTH = 256;

export type ParsedEvent =
  { ok: true; event: UpstreamEvent } | { ok: false; violations: readonly FieldViolation[] };

/**
 * Parses one Segment-spec message (the JSON upstream libraries already emit) into an
 * UpstreamEvent, collecting every problem with its field path. `receivedAt` stands in for a
 * missing timestamp, as Segment does. Traits, properties and context must keep to `limits`.
 */
export function parseSegmentEvent(
  input: unknown,
  receivedAt: Date,
  limits: UpstreamLimits,
): ParsedEvent {
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
  const freeForm: [string, unknown][] = [['context', context]];

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
      freeForm.push(['properties', properties]);
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
      const traits = object(input, 'traits', v);
      freeForm.push(['traits', traits]);
      event.payload = {
        case: 'identify',
        value: create(IdentifyPayloadSchema, traits ? { traits } : {}),
      };
      break;
    }
    case 'group': {
      const groupId = identifier(input, 'groupId', v, true);
      const traits = object(input, 'traits', v);
      freeForm.push(['traits', traits]);
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
  checkFreeForm(freeForm, limits, v);
  return v.empty ? { ok: true, event } : { ok: false, violations: v.all };
}

/** Checks a protobuf-encoded event with the same rules as the JSON form. */
export function validateUpstreamEvent(
  event: UpstreamEvent,
  limits: UpstreamLimits,
): readonly FieldViolation[] {
  const v = new Violations();
  if (!event.messageId) v.add('messageId', 'is required');
  if (!event.userId && !event.anonymousId) v.add('userId', 'userId or anonymousId is required');
  if (event.messageId.length > MAX_ID_LENGTH)
    v.add('messageId', `is longer than ${MAX_ID_LENGTH} characters`);
  const freeForm: [string, unknown][] = [['context', event.context]];
  switch (event.payload.case) {
    case 'track':
      if (!event.payload.value.event.trim())
        v.add('track.event', 'track needs a non-empty event name');
      freeForm.push(['track.properties', event.payload.value.properties]);
      break;
    case 'identify':
      freeForm.push(['identify.traits', event.payload.value.traits]);
      break;
    case 'group':
      if (!event.payload.value.groupId) v.add('group.groupId', 'is required');
      freeForm.push(['group.traits', event.payload.value.traits]);
      break;
    case 'alias':
      if (!event.payload.value.previousId) v.add('alias.previousId', 'is required');
      if (!event.userId) v.add('userId', 'alias needs the new userId');
      break;
    case undefined:
      v.add('payload', 'one of track, identify, group, alias is required');
      break;
  }
  checkFreeForm(freeForm, limits, v);
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
