import { timestampDate } from '@bufbuild/protobuf/wkt';
import { toBinary } from '@bufbuild/protobuf';
import { type UpstreamEvent, UpstreamEventSchema } from '@shoal/contracts';
import { type FieldViolation, Violations } from '@shoal/platform';
import { type UpstreamLimits, checkFreeForm, childPath } from './upstream-record-limits';

/** Longest id (message, user, anonymous, group, previous), event name, page or screen name. */
export const MAX_ID_LENGTH = 256;

/** What an upstream event must keep to, besides its shape; from the INGEST_* configuration. */
export interface UpstreamRules {
  /** Bounds of traits, properties and context. */
  readonly limits: UpstreamLimits;
  /** How far after its arrival an event's timestamp may be (clock skew), in milliseconds. */
  readonly maxFutureMs: number;
  /** Trait names identify calls may not set. */
  readonly reservedTraits: ReadonlySet<string>;
  /** Traits that identify a person (IDENTITY_TRAITS), e.g. email. */
  readonly identityTraits: readonly string[];
  /**
   * Largest event, encoded as protobuf, whose changes still fit a record of the profile-change
   * topic (KAFKA_MAX_MESSAGE_BYTES less room for the change's own fields).
   */
  readonly maxEventBytes: number;
}

/**
 * What a profile change adds to the content it carries — ids, subject, source, account,
 * incarnation, times, headers — at most about 1.2 KB; kept within half of small limits.
 */
const CHANGE_OVERHEAD_BYTES = 2048;

/** The largest event (as protobuf) whose changes fit a record of `maxMessageBytes`. */
export function maxEventBytes(maxMessageBytes: number): number {
  return Math.max(maxMessageBytes - CHANGE_OVERHEAD_BYTES, Math.floor(maxMessageBytes / 2));
}

/**
 * JSON and protobuf sizes of one value differ by at most this factor (a small number in a list
 * takes 2 bytes as JSON, 11 as a google.protobuf.Value), so smaller records need no encoding
 * to be known to fit.
 */
const MAX_EXPANSION = 6;

/**
 * Refuses an event whose changes could not be published: a track's event carries its
 * properties; an identify's or group's traits change carries old and new values.
 */
export function checkEncodedSize(
  event: UpstreamEvent,
  recordBytes: number,
  rules: UpstreamRules,
): string | undefined {
  if (recordBytes * MAX_EXPANSION * 2 <= rules.maxEventBytes) return undefined;
  const size = toBinary(UpstreamEventSchema, event).length;
  const copies = event.payload.case === 'identify' || event.payload.case === 'group' ? 2 : 1;
  if (size * copies <= rules.maxEventBytes) return undefined;
  return (
    `the event takes ${size} bytes as protobuf; ${copies === 2 ? 'with the values it replaces, ' : ''}` +
    `its changes would not fit a profile-change record (KAFKA_MAX_MESSAGE_BYTES)`
  );
}

export const UPSTREAM_RULES = Symbol('UpstreamRules');

/** Field paths as the sender wrote them: Segment-spec JSON, or the UpstreamEvent message. */
export type EventForm = 'json' | 'protobuf';

/**
 * Checks a protobuf UpstreamEvent with the same rules as the JSON form: required fields, then
 * content (checkUpstreamContent), with paths into the message (e.g. `identify.traits.plan`).
 */
export function checkProtobufEvent(
  event: UpstreamEvent,
  receivedAt: Date,
  rules: UpstreamRules,
): readonly FieldViolation[] {
  const v = new Violations();
  if (!event.messageId) v.add('messageId', 'is required');
  for (const field of ['messageId', 'userId', 'anonymousId'] as const) {
    if (event[field].length > MAX_ID_LENGTH)
      v.add(field, `is longer than ${MAX_ID_LENGTH} characters`);
  }
  if (!event.userId && !event.anonymousId) v.add('userId', 'userId or anonymousId is required');
  const payload = event.payload;
  switch (payload.case) {
    case 'track':
      if (!payload.value.event.trim()) v.add('track.event', 'track needs a non-empty event name');
      else if (payload.value.event.length > MAX_ID_LENGTH)
        v.add('track.event', `is longer than ${MAX_ID_LENGTH} characters`);
      break;
    case 'identify':
      break;
    case 'group':
      if (!payload.value.groupId) v.add('group.groupId', 'is required');
      else if (payload.value.groupId.length > MAX_ID_LENGTH)
        v.add('group.groupId', `is longer than ${MAX_ID_LENGTH} characters`);
      break;
    case 'alias':
      if (!payload.value.previousId) v.add('alias.previousId', 'is required');
      else if (payload.value.previousId.length > MAX_ID_LENGTH)
        v.add('alias.previousId', `is longer than ${MAX_ID_LENGTH} characters`);
      if (!event.userId) v.add('userId', 'alias needs the new userId');
      break;
    case 'page':
    case 'screen':
      for (const field of ['name', 'category'] as const) {
        if (payload.value[field].length > MAX_ID_LENGTH)
          v.add(`${payload.case}.${field}`, `is longer than ${MAX_ID_LENGTH} characters`);
      }
      break;
    case undefined:
      v.add('payload', 'one of track, identify, group, alias, page, screen is required');
      break;
  }
  for (const field of ['timestamp', 'sentAt'] as const) {
    const at = event[field];
    if (at && !validInstant(at)) v.add(field, 'is not a valid instant');
  }
  checkUpstreamContent(event, receivedAt, rules, 'protobuf', v);
  return v.all;
}

/**
 * Checks what both forms share, once their shape is right: the free-form objects within the
 * limits, the timestamp not too far after the arrival, no reserved trait names, identifier
 * traits that are usable identifiers.
 */
export function checkUpstreamContent(
  event: UpstreamEvent,
  receivedAt: Date,
  rules: UpstreamRules,
  form: EventForm,
  v: Violations,
): void {
  const payload = event.payload;
  const freeForm: [string, unknown][] = [['context', event.context]];
  switch (payload.case) {
    case 'track':
    case 'page':
    case 'screen':
      freeForm.push([pathOf(form, payload.case, 'properties'), payload.value.properties]);
      break;
    case 'identify':
    case 'group':
      freeForm.push([pathOf(form, payload.case, 'traits'), payload.value.traits]);
      break;
    case 'alias':
    case undefined:
      break;
  }
  checkFreeForm(freeForm, rules.limits, v);

  if (event.timestamp && validInstant(event.timestamp)) {
    const aheadMs = timestampDate(event.timestamp).getTime() - receivedAt.getTime();
    if (aheadMs > rules.maxFutureMs) {
      v.add(
        'timestamp',
        `is more than ${rules.maxFutureMs / 1000} s after the record arrived (INGEST_MAX_FUTURE_SECONDS)`,
      );
    }
  }

  if (payload.case === 'identify') {
    const traits = payload.value.traits ?? {};
    const path = pathOf(form, 'identify', 'traits');
    for (const name of Object.keys(traits)) {
      if (rules.reservedTraits.has(name))
        v.add(childPath(path, name), 'is a reserved trait name (INGEST_RESERVED_TRAITS)');
    }
    for (const name of rules.identityTraits) {
      const value = traits[name];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH) {
        v.add(
          childPath(path, name),
          `identifies the person (IDENTITY_TRAITS), so it must be a string of 1 to ${MAX_ID_LENGTH} characters`,
        );
      }
    }
  }
}

function pathOf(form: EventForm, call: string, field: string): string {
  return form === 'json' ? field : `${call}.${field}`;
}

/** protobuf-es turns any Timestamp into a Date; this one must be a real instant in years 1–9999. */
function validInstant(at: { seconds: bigint; nanos: number }): boolean {
  return (
    at.seconds >= -62_135_596_800n &&
    at.seconds <= 253_402_300_799n &&
    at.nanos >= 0 &&
    at.nanos <= 999_999_999
  );
}
