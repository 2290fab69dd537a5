import { createHash } from 'node:crypto';
import { KafkaHeaders } from '@shoal/contracts';
import type { KafkaMessage } from 'kafkajs';
import { deadLetterRecord, inSendsOf, inSizedSendsOf, recordBytes } from './dead-letters';
import { TOPIC_HEADROOM_BYTES } from './topics';

const LIMIT = 16 * 1024;
const source = { topic: 'prod.shoal.upstream.events', at: new Date('2026-12-01T10:00:00Z') };

function original(overrides: Partial<KafkaMessage> = {}): KafkaMessage {
  return {
    key: Buffer.from('u-1'),
    value: Buffer.from('{"type":"identify"}'),
    headers: { 'content-type': 'application/json' },
    offset: '42',
    timestamp: '0',
    attributes: 0,
    ...overrides,
  } as KafkaMessage;
}

const deadLetter = (message: KafkaMessage, error = 'userId: is required') => ({
  message,
  partition: 3,
  reason: 'INVALID_EVENT',
  error,
});

describe('dead-letter records', () => {
  it('keep a record that fits as it was, with why and where from', () => {
    const record = deadLetterRecord(deadLetter(original()), source, LIMIT);
    expect(record.key).toEqual(Buffer.from('u-1'));
    expect(record.value).toEqual(Buffer.from('{"type":"identify"}'));
    expect(record.headers).toEqual({
      'content-type': 'application/json',
      [KafkaHeaders.deadLetterReason]: 'INVALID_EVENT',
      [KafkaHeaders.deadLetterError]: 'userId: is required',
      [KafkaHeaders.deadLetterTopic]: 'prod.shoal.upstream.events',
      [KafkaHeaders.deadLetterPartition]: '3',
      [KafkaHeaders.deadLetterOffset]: '42',
      [KafkaHeaders.deadLetterAt]: '2026-12-01T10:00:00.000Z',
    });
  });

  it('cut the value of a record over the limit, with its size and hash', () => {
    const value = Buffer.alloc(5 * LIMIT, 'x');
    const record = deadLetterRecord(deadLetter(original({ value })), source, LIMIT);
    const kept = record.value as Buffer;
    expect(
      recordBytes({ ...record, headers: { 'content-type': 'application/json' } }),
    ).toBeLessThanOrEqual(LIMIT);
    expect(kept.length).toBeGreaterThan(LIMIT - 200);
    expect(value.subarray(0, kept.length).equals(kept)).toBe(true);
    expect(record.headers).toMatchObject({
      'content-type': 'application/json',
      [KafkaHeaders.deadLetterTruncated]: 'value',
      [KafkaHeaders.deadLetterOriginalBytes]: String(value.length),
      [KafkaHeaders.deadLetterOriginalSha256]: createHash('sha256').update(value).digest('hex'),
    });
  });

  it('drop oversized original headers and cut an oversized key too', () => {
    const record = deadLetterRecord(
      deadLetter(
        original({
          key: Buffer.alloc(LIMIT, 'k'),
          headers: { big: Buffer.alloc(LIMIT, 'h'), more: ['a', 'b'] },
        }),
      ),
      source,
      LIMIT,
    );
    expect((record.key as Buffer).length).toBe(LIMIT / 4);
    expect(record.headers).not.toHaveProperty('big');
    expect(record.headers?.[KafkaHeaders.deadLetterTruncated]).toBe('key,headers');
    expect(record.value).toEqual(Buffer.from('{"type":"identify"}'));
  });

  it('replace the shoal-dlq-* headers of a record dead-lettered before', () => {
    const replayed = original({
      headers: {
        [KafkaHeaders.deadLetterReason]: 'TOO_LARGE',
        [KafkaHeaders.deadLetterTruncated]: 'value',
      },
    });
    const record = deadLetterRecord(deadLetter(replayed), source, LIMIT);
    expect(record.headers?.[KafkaHeaders.deadLetterReason]).toBe('INVALID_EVENT');
    expect(record.headers).not.toHaveProperty(KafkaHeaders.deadLetterTruncated);
  });

  it('stay within the topic’s limit at worst, multi-byte error text and all', () => {
    const record = deadLetterRecord(
      deadLetter(original({ value: Buffer.alloc(10 * LIMIT) }), '€'.repeat(2_000)),
      source,
      LIMIT,
    );
    expect(recordBytes(record)).toBeLessThanOrEqual(LIMIT + TOPIC_HEADROOM_BYTES / 2);
  });
});

describe('sends of dead letters', () => {
  const record = (bytes: number) => ({ key: null, value: Buffer.alloc(bytes) });

  it('group records up to the limit and keep their order', () => {
    const records = [record(6000), record(6000), record(6000), record(100)];
    const sends = inSendsOf(records, LIMIT);
    expect(sends.map((s) => s.length)).toEqual([2, 2]);
    expect(sends.flat()).toEqual(records);
    for (const send of sends)
      expect(send.reduce((sum, r) => sum + recordBytes(r), 0)).toBeLessThanOrEqual(LIMIT);
  });

  it('send a record larger than the limit alone', () => {
    expect(
      inSendsOf([record(10), record(LIMIT + 10), record(10)], LIMIT).map((s) => s.length),
    ).toEqual([1, 1, 1]);
  });

  it('carry their size as the records measure, headers (one value or several) included', () => {
    const records = [
      { key: 'k', value: Buffer.alloc(6000), headers: { a: 'x', b: ['yy', Buffer.alloc(3)] } },
      { key: null, value: Buffer.alloc(6000), headers: { 'content-type': 'application/x' } },
      record(100),
    ];
    const sends = inSizedSendsOf(records, LIMIT);
    expect(sends.map((s) => s.messages)).toEqual(inSendsOf(records, LIMIT));
    for (const send of sends)
      expect(send.bytes).toBe(send.messages.reduce((sum, r) => sum + recordBytes(r), 0));
    const [first] = records as [(typeof records)[0]];
    // each header value: 16 bytes of framing, its name and the value
    expect(recordBytes(first) - recordBytes({ ...first, headers: {} })).toBe(18 + 19 + 20);
  });
});
