import {
  ContentTypes,
  KafkaHeaders,
  type UpstreamEvent,
  UpstreamEventSchema,
} from '@shoal/contracts';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  UndeliverableRecordError,
  decodeProtobuf,
  describeViolations,
  headersOf,
} from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { parseSegmentSpec } from './segment-spec';
import { type UpstreamRules, checkEncodedSize, checkProtobufEvent } from './upstream-event';

/**
 * Turns a record from the upstream topic into an UpstreamEvent, whichever form the sender
 * used: protobuf when the content-type says so, otherwise Segment-spec JSON. Anything that
 * cannot become a valid event within `rules` is undeliverable (dead-lettered with the reason),
 * so nothing unstorable or undecodable reaches the store.
 */
export function decodeUpstreamRecord(message: KafkaMessage, rules: UpstreamRules): UpstreamEvent {
  if (!message.value || message.value.length === 0) {
    throw new UndeliverableRecordError('EMPTY_VALUE', 'record has no value');
  }
  const receivedAt = new Date(Number(message.timestamp));
  const contentType = headersOf(message.headers)[KafkaHeaders.contentType];
  if (contentType === ContentTypes.protobuf) {
    const event = decodeProtobuf(UpstreamEventSchema, message);
    const violations = checkProtobufEvent(event, receivedAt, rules);
    if (violations.length > 0)
      throw new UndeliverableRecordError('INVALID_EVENT', describeViolations(violations));
    event.receivedAt = timestampFromDate(receivedAt);
    event.timestamp ??= event.receivedAt;
    return fitting(event, message.value.length, rules);
  }
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    throw new UndeliverableRecordError(
      'INVALID_JSON',
      `value is not JSON: ${(error as Error).message}`,
    );
  }
  const parsed = parseSegmentSpec(json, receivedAt, rules);
  if (!parsed.ok)
    throw new UndeliverableRecordError('INVALID_EVENT', describeViolations(parsed.violations));
  return fitting(parsed.event, message.value.length, rules);
}

function fitting(event: UpstreamEvent, recordBytes: number, rules: UpstreamRules): UpstreamEvent {
  const tooLarge = checkEncodedSize(event, recordBytes, rules);
  if (tooLarge) throw new UndeliverableRecordError('TOO_LARGE', tooLarge);
  return event;
}
