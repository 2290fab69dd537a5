import {
  ContentTypes,
  KafkaHeaders,
  type UpstreamEvent,
  UpstreamEventSchema,
} from '@shoal/contracts';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { RecordError, decodeProtobuf, headersOf } from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { parseSegmentSpec } from './segment-spec';
import { type UpstreamRules, checkEncodedSize, checkProtobufEvent } from './upstream-event';
import { UpstreamError } from './upstream.errors';

/**
 * Turns a record from the upstream topic into an UpstreamEvent, whichever form the sender
 * used: protobuf when the content-type says so, otherwise Segment-spec JSON. Anything that
 * cannot become a valid event within `rules` is refused (RecordError, UpstreamError) and
 * dead-lettered with the reason,
 * so nothing unstorable or undecodable reaches the store.
 */
export function decodeUpstreamRecord(message: KafkaMessage, rules: UpstreamRules): UpstreamEvent {
  if (!message.value || message.value.length === 0) {
    throw RecordError.emptyValue();
  }
  const receivedAt = new Date(Number(message.timestamp));
  const contentType = headersOf(message.headers)[KafkaHeaders.contentType];
  if (contentType === ContentTypes.protobuf) {
    const event = decodeProtobuf(UpstreamEventSchema, message);
    const violations = checkProtobufEvent(event, receivedAt, rules);
    if (violations.length > 0) throw UpstreamError.invalidEvent(violations);
    event.receivedAt = timestampFromDate(receivedAt);
    event.timestamp ??= event.receivedAt;
    return fitting(event, message.value.length, rules);
  }
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    throw UpstreamError.invalidJson((error as Error).message);
  }
  const parsed = parseSegmentSpec(json, receivedAt, rules);
  if (!parsed.ok) throw UpstreamError.invalidEvent(parsed.violations);
  return fitting(parsed.event, message.value.length, rules);
}

function fitting(event: UpstreamEvent, recordBytes: number, rules: UpstreamRules): UpstreamEvent {
  const tooLarge = checkEncodedSize(event, recordBytes, rules);
  if (tooLarge) throw UpstreamError.tooLarge(tooLarge);
  return event;
}
