import { create, toBinary } from '@bufbuild/protobuf';
import { ContentTypes, KafkaHeaders, UpstreamEventSchema } from '@shoal/contracts';
import { DomainError } from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import type { UpstreamRules } from './upstream-event';
import { decodeUpstreamRecord } from './upstream-record';

const rules: UpstreamRules = {
  limits: { maxDepth: 32, maxKeys: 1000, maxKeyLength: 256, maxStringLength: 16384 },
  maxFutureMs: 3_600_000,
  maxEventBytes: 1_048_576 - 2048,
  reservedTraits: new Set(['profileId']),
  identityTraits: ['email'],
};

function record(value: Buffer | string, protobuf = false): KafkaMessage {
  return {
    key: null,
    value: Buffer.from(value),
    headers: protobuf ? { [KafkaHeaders.contentType]: ContentTypes.protobuf } : {},
    offset: '0',
    timestamp: String(Date.parse('2026-12-01T10:00:00Z')),
    attributes: 0,
  } as KafkaMessage;
}

function refusal(message: KafkaMessage): { reason: string; message: string } {
  try {
    decodeUpstreamRecord(message, rules);
  } catch (error) {
    if (error instanceof DomainError) return { reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error('the record was accepted');
}

function deep(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let level = 1; level < depth; level++) value = { a: value };
  return value;
}

describe('upstream records', () => {
  it('refuses an empty value, a value that is not JSON and an undecodable protobuf, each with its reason', () => {
    expect(refusal(record(''))).toEqual({ reason: 'EMPTY_VALUE', message: 'record has no value' });
    expect(refusal(record('{"type":'))).toMatchObject({
      reason: 'INVALID_JSON',
      message: expect.stringMatching(/^value is not JSON: /),
    });
    expect(refusal(record(Buffer.from([0xff, 0xff, 0xff]), true))).toMatchObject({
      reason: 'UNDECODABLE',
      message: expect.stringMatching(/^value is not a valid shoal\.v1\.UpstreamEvent: /),
    });
  });

  it('refuses the identify of issue 15, whose trait name holds a NUL, naming the field', () => {
    const json = '{"type":"identify","messageId":"p","userId":"u","traits":{"a\\u0000b":1}}';
    expect(refusal(record(json))).toEqual({
      reason: 'INVALID_EVENT',
      message: 'traits["a\\u0000b"]: field name contains a NUL character',
    });
  });

  it('refuses unstorable names in properties and context of JSON events too', () => {
    const json = JSON.stringify({
      type: 'track',
      messageId: 'm',
      userId: 'u',
      event: 'Viewed',
      properties: { item: { $where: 'x' } },
      context: { 'campaign.name': 'spring' },
    });
    expect(refusal(record(json)).message).toBe(
      'context["campaign.name"]: field name contains "."; ' +
        'properties.item["$where"]: field name starts with "$"',
    );
  });

  it('refuses a 300-deep trait object and accepts one at the depth limit', () => {
    const event = (traits: unknown) =>
      JSON.stringify({ type: 'identify', messageId: 'm', userId: 'u', traits });
    expect(refusal(record(event(deep(300)))).message).toMatch(
      /^traits(\.a){32}: nests deeper than 32 levels \(INGEST_MAX_DEPTH\)$/,
    );
    expect(decodeUpstreamRecord(record(event(deep(32))), rules).payload.case).toBe('identify');
  });

  it('applies the same rules to protobuf events, with their field paths', () => {
    const event = create(UpstreamEventSchema, {
      messageId: 'm',
      userId: 'u',
      context: { $ip: '10.0.0.1' },
      payload: {
        case: 'group',
        value: { groupId: 'g', traits: { 'a\u0000b': 1, nested: deep(32) as never } },
      },
    });
    expect(refusal(record(Buffer.from(toBinary(UpstreamEventSchema, event)), true))).toEqual({
      reason: 'INVALID_EVENT',
      message:
        'context["$ip"]: field name starts with "$"; ' +
        'group.traits["a\\u0000b"]: field name contains a NUL character; ' +
        `group.traits.nested${'.a'.repeat(31)}: nests deeper than 32 levels (INGEST_MAX_DEPTH)`,
    });
  });

  it('checks protobuf page calls, timestamps and identifier traits with paths into the message', () => {
    const page = create(UpstreamEventSchema, {
      messageId: 'm',
      anonymousId: 'a',
      timestamp: { seconds: BigInt(Date.parse('2026-12-02T10:00:00Z') / 1000) },
      payload: { case: 'page', value: { name: 'x'.repeat(300), properties: { $p: 1 } } },
    });
    expect(refusal(record(Buffer.from(toBinary(UpstreamEventSchema, page)), true))).toEqual({
      reason: 'INVALID_EVENT',
      message:
        'page.name: is longer than 256 characters; ' +
        'page.properties["$p"]: field name starts with "$"; ' +
        'timestamp: is more than 3600 s after the record arrived (INGEST_MAX_FUTURE_SECONDS)',
    });
    const identify = create(UpstreamEventSchema, {
      messageId: 'm',
      userId: 'u',
      payload: { case: 'identify', value: { traits: { email: 5, profileId: 'p' } } },
    });
    expect(refusal(record(Buffer.from(toBinary(UpstreamEventSchema, identify)), true))).toEqual({
      reason: 'INVALID_EVENT',
      message:
        'identify.traits.profileId: is a reserved trait name (INGEST_RESERVED_TRAITS); ' +
        'identify.traits.email: identifies the person (IDENTITY_TRAITS), so it must be a string of 1 to 256 characters',
    });
  });

  it('refuses a protobuf timestamp outside the years 1 to 9999', () => {
    const event = create(UpstreamEventSchema, {
      messageId: 'm',
      userId: 'u',
      timestamp: { seconds: 400_000_000_000n },
      payload: { case: 'track', value: { event: 'x' } },
    });
    expect(refusal(record(Buffer.from(toBinary(UpstreamEventSchema, event)), true)).message).toBe(
      'timestamp: is not a valid instant',
    );
  });

  it('refuses an event whose changes could not be published, as TOO_LARGE, and passes one that fits', () => {
    const small = { ...rules, maxEventBytes: 40_000 };
    // 8,000 small numbers: 16 KB of JSON, about 90 KB as protobuf values
    const numbers = JSON.stringify({
      type: 'track',
      messageId: 'm',
      userId: 'u',
      event: 'Scanned',
      properties: { readings: Array.from({ length: 8_000 }, (_, i) => i % 10) },
    });
    const outcome = (() => {
      try {
        decodeUpstreamRecord(record(numbers), small);
        return 'accepted';
      } catch (error) {
        return (error as DomainError).reason;
      }
    })();
    expect(outcome).toBe('TOO_LARGE');
    const fits = JSON.stringify({
      type: 'track',
      messageId: 'm',
      userId: 'u',
      event: 'Scanned',
      properties: { readings: Array.from({ length: 1_000 }, (_, i) => i % 10) },
    });
    expect(decodeUpstreamRecord(record(fits), small).payload.case).toBe('track');
  });
});
