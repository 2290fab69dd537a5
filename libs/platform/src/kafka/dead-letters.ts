import { createHash } from 'node:crypto';
import { KafkaHeaders } from '@shoal/contracts';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/** A record that can never be processed, with why. */
export interface DeadLetter {
  readonly message: KafkaMessage;
  readonly partition: number;
  /** Machine-readable, e.g. TOO_LARGE, INVALID_EVENT, PROCESSING_FAILED. */
  readonly reason: string;
  /** Human-readable, bounded. */
  readonly error: string;
}

/** Where dead letters come from and when they were dead-lettered. */
export interface DeadLetterSource {
  readonly topic: string;
  readonly at: Date;
}

const DEAD_LETTER_HEADER_PREFIX = 'shoal-dlq-';

// per-record and per-header framing in a v2 record batch (varints, attributes, deltas), rounded up
const RECORD_OVERHEAD_BYTES = 64;
const HEADER_OVERHEAD_BYTES = 16;

/**
 * Bytes a record takes in a batch: key, value and headers with their framing. The broker's
 * max.message.bytes applies to the batch as it arrives, so uncompressed records count in full.
 */
export function recordBytes(
  message:
    Pick<Message, 'key' | 'value' | 'headers'> | Pick<KafkaMessage, 'key' | 'value' | 'headers'>,
): number {
  return (
    RECORD_OVERHEAD_BYTES +
    byteLength(message.key) +
    byteLength(message.value) +
    headerBytes(message.headers)
  );
}

/**
 * The record to publish to the dead-letter topic: the original key, value and headers, plus
 * shoal-dlq-* headers saying why and where from. The original part is kept within
 * `maxMessageBytes`: a larger original (one that arrived compressed, say) loses its headers
 * (when they alone are over a quarter of the limit), the end of its key (likewise) and the end
 * of its value; the value's original size and SHA-256 are in headers, so the full record can
 * be found and matched at its source. Shoal's own headers stay within the topic's headroom.
 */
export function deadLetterRecord(
  deadLetter: DeadLetter,
  source: DeadLetterSource,
  maxMessageBytes: number,
): Message {
  const { message } = deadLetter;
  const original = withoutDeadLetterHeaders(message.headers);
  const reasonHeaders: IHeaders = {
    [KafkaHeaders.deadLetterReason]: deadLetter.reason,
    [KafkaHeaders.deadLetterError]: deadLetter.error,
    [KafkaHeaders.deadLetterTopic]: source.topic,
    [KafkaHeaders.deadLetterPartition]: String(deadLetter.partition),
    [KafkaHeaders.deadLetterOffset]: message.offset,
    [KafkaHeaders.deadLetterAt]: source.at.toISOString(),
  };
  if (recordBytes({ key: message.key, value: message.value, headers: original }) <= maxMessageBytes)
    return { key: message.key, value: message.value, headers: { ...original, ...reasonHeaders } };

  const truncated: string[] = [];
  const quarter = Math.floor(maxMessageBytes / 4);
  let key = message.key;
  if (byteLength(key) > quarter) {
    key = (key as Buffer).subarray(0, quarter);
    truncated.push('key');
  }
  let headers = original;
  if (headerBytes(headers) > quarter) {
    headers = {};
    truncated.push('headers');
  }
  const value = message.value ?? Buffer.alloc(0);
  const room = Math.max(0, maxMessageBytes - recordBytes({ key, value: null, headers }));
  const keptValue = value.length > room ? value.subarray(0, room) : value;
  if (keptValue.length < value.length) truncated.push('value');
  return {
    key,
    value: keptValue,
    headers: {
      ...headers,
      ...reasonHeaders,
      [KafkaHeaders.deadLetterTruncated]: truncated.join(','),
      [KafkaHeaders.deadLetterOriginalBytes]: String(value.length),
      [KafkaHeaders.deadLetterOriginalSha256]: createHash('sha256').update(value).digest('hex'),
    },
  };
}

/** Records to send together, and their size as `recordBytes` counts it. */
export interface SizedSend {
  readonly messages: Message[];
  readonly bytes: number;
}

/**
 * Splits records into sends whose batches stay within `maxMessageBytes` (a record larger than
 * that on its own, which a dead letter's headers can make it, goes alone).
 */
export function inSendsOf(messages: readonly Message[], maxMessageBytes: number): Message[][] {
  return inSizedSendsOf(messages, maxMessageBytes).map((send) => send.messages);
}

/** `inSendsOf`, with each send's size, so a publisher need not measure the records again. */
export function inSizedSendsOf(messages: readonly Message[], maxMessageBytes: number): SizedSend[] {
  const sends: SizedSend[] = [];
  let current: Message[] = [];
  let size = 0;
  for (const message of messages) {
    const bytes = recordBytes(message);
    if (current.length > 0 && size + bytes > maxMessageBytes) {
      sends.push({ messages: current, bytes: size });
      current = [];
      size = 0;
    }
    current.push(message);
    size += bytes;
  }
  if (current.length > 0) sends.push({ messages: current, bytes: size });
  return sends;
}

/** A record dead-lettered before (and replayed) keeps none of its old shoal-dlq-* headers. */
function withoutDeadLetterHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !name.startsWith(DEAD_LETTER_HEADER_PREFIX)),
  );
}

function headerBytes(headers: IHeaders | undefined): number {
  if (!headers) return 0;
  let total = 0;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    const framed = HEADER_OVERHEAD_BYTES + Buffer.byteLength(name);
    if (Array.isArray(value)) for (const item of value) total += framed + byteLength(item);
    else total += framed + byteLength(value);
  }
  return total;
}

function byteLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
