import { timestampDate } from '@bufbuild/protobuf/wkt';
import { parseSegmentSpec } from './segment-spec';
import type { UpstreamRules } from './upstream-event';

const receivedAt = new Date('2026-11-23T10:00:00Z');
const rules: UpstreamRules = {
  limits: { maxDepth: 32, maxKeys: 1000, maxKeyLength: 256, maxStringLength: 16384 },
  maxFutureMs: 3_600_000,
  maxEventBytes: 1_048_576 - 2048,
  reservedTraits: new Set(['userId', 'anonymousId', 'profileId']),
  identityTraits: ['email'],
};

function fieldsOf(input: unknown): string[] {
  const parsed = parseSegmentSpec(input, receivedAt, rules);
  return parsed.ok ? [] : parsed.violations.map((v) => v.field);
}

function problemsOf(input: unknown): string[] {
  const parsed = parseSegmentSpec(input, receivedAt, rules);
  return parsed.ok ? [] : parsed.violations.map((v) => `${v.field}: ${v.description}`);
}

describe('Segment-spec JSON events', () => {
  it('reads a track call with its properties and timestamp', () => {
    const parsed = parseSegmentSpec(
      {
        type: 'track',
        messageId: 'm-1',
        userId: 'u-1',
        event: 'Order Completed',
        properties: { total: 120.5, currency: 'EUR' },
        timestamp: '2026-11-20T08:30:00.000Z',
      },
      receivedAt,
      rules,
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.event.userId).toBe('u-1');
    expect(parsed.event.payload).toMatchObject({
      case: 'track',
      value: { event: 'Order Completed', properties: { total: 120.5, currency: 'EUR' } },
    });
    expect(timestampDate(parsed.event.timestamp!).toISOString()).toBe('2026-11-20T08:30:00.000Z');
  });

  it('uses the receive time when the sender gave no timestamp', () => {
    const parsed = parseSegmentSpec(
      { type: 'identify', messageId: 'm', anonymousId: 'a', traits: { plan: 'pro' } },
      receivedAt,
      rules,
    );
    expect(parsed.ok && timestampDate(parsed.event.timestamp!).getTime()).toBe(
      receivedAt.getTime(),
    );
  });

  it('accepts numeric ids as upstream libraries sometimes send them', () => {
    const parsed = parseSegmentSpec(
      { type: 'track', messageId: 7, userId: 42, event: 'x' },
      receivedAt,
      rules,
    );
    expect(parsed.ok && parsed.event.userId).toBe('42');
  });

  it.each([
    ['not an object', 'hello', ['']],
    ['an unsupported type', { type: 'batch', messageId: 'm', userId: 'u' }, ['type']],
    ['no identity', { type: 'track', messageId: 'm', event: 'x' }, ['userId']],
    ['no message id', { type: 'track', userId: 'u', event: 'x' }, ['messageId']],
    [
      'a track without event name',
      { type: 'track', messageId: 'm', userId: 'u', event: ' ' },
      ['event'],
    ],
    [
      'a bad timestamp',
      { type: 'track', messageId: 'm', userId: 'u', event: 'x', timestamp: 'yesterday' },
      ['timestamp'],
    ],
    [
      'properties that are not an object',
      { type: 'track', messageId: 'm', userId: 'u', event: 'x', properties: [1] },
      ['properties'],
    ],
    ['a group without groupId', { type: 'group', messageId: 'm', userId: 'u' }, ['groupId']],
    ['an alias without previousId', { type: 'alias', messageId: 'm', userId: 'u' }, ['previousId']],
    [
      'an alias without the new userId',
      { type: 'alias', messageId: 'm', anonymousId: 'a', previousId: 'p' },
      ['userId'],
    ],
    [
      'a trait name with a dot',
      { type: 'identify', messageId: 'm', userId: 'u', traits: { 'a.b': 1 } },
      ['traits["a.b"]'],
    ],
    [
      'an object as user id',
      { type: 'track', messageId: 'm', userId: { id: 1 }, event: 'x' },
      ['userId'],
    ],
  ])('rejects %s, naming the field', (_, input, fields) => {
    expect(fieldsOf(input)).toEqual(fields);
  });

  it('reports every problem of one message together', () => {
    expect(fieldsOf({ type: 'track', timestamp: 'nope', event: '' }).sort()).toEqual(
      ['event', 'messageId', 'timestamp', 'userId'].sort(),
    );
  });

  it('names the unsupported type and the supported ones', () => {
    expect(problemsOf({ type: 'batch', messageId: 'm', userId: 'u' })).toEqual([
      'type: must be one of track, identify, group, alias, page, screen; got "batch"',
    ]);
  });

  it('reads page and screen calls with their name, category and properties', () => {
    const page = parseSegmentSpec(
      {
        type: 'page',
        messageId: 'p-1',
        anonymousId: 'a-1',
        name: 'Pricing',
        category: 'Docs',
        properties: { path: '/pricing', title: 'Pricing' },
      },
      receivedAt,
      rules,
    );
    expect(page.ok && page.event.payload).toMatchObject({
      case: 'page',
      value: { name: 'Pricing', category: 'Docs', properties: { path: '/pricing' } },
    });
    const screen = parseSegmentSpec(
      { type: 'screen', messageId: 's-1', userId: 'u-1' },
      receivedAt,
      rules,
    );
    expect(screen.ok && screen.event.payload).toMatchObject({
      case: 'screen',
      value: { name: '', category: '' },
    });
    expect(fieldsOf({ type: 'page', messageId: 'p', userId: 'u', name: 7 })).toEqual(['name']);
  });

  it('refuses a timestamp too far after the record arrived, and takes one just within', () => {
    const at = (iso: string) => ({
      type: 'track',
      messageId: 'm',
      userId: 'u',
      event: 'x',
      timestamp: iso,
    });
    expect(problemsOf(at('2026-11-23T11:00:01Z'))).toEqual([
      'timestamp: is more than 3600 s after the record arrived (INGEST_MAX_FUTURE_SECONDS)',
    ]);
    expect(problemsOf(at('2026-11-23T11:00:00Z'))).toEqual([]);
    expect(problemsOf(at('1999-01-01T00:00:00Z'))).toEqual([]);
  });

  it('refuses reserved trait names in identify calls, only at the top level', () => {
    const identify = (traits: unknown) => ({
      type: 'identify',
      messageId: 'm',
      userId: 'u',
      traits,
    });
    expect(problemsOf(identify({ userId: 'other', plan: 'pro' }))).toEqual([
      'traits.userId: is a reserved trait name (INGEST_RESERVED_TRAITS)',
    ]);
    expect(problemsOf(identify({ address: { userId: 'x' } }))).toEqual([]);
  });

  it('refuses identifier traits that cannot identify anyone, and lets them be cleared', () => {
    const identify = (email: unknown) => ({
      type: 'identify',
      messageId: 'm',
      userId: 'u',
      traits: { email },
    });
    const refusal =
      'traits.email: identifies the person (IDENTITY_TRAITS), so it must be a string of 1 to 256 characters';
    expect(problemsOf(identify(42))).toEqual([refusal]);
    expect(problemsOf(identify(''))).toEqual([refusal]);
    expect(problemsOf(identify('x'.repeat(257)))).toEqual([refusal]);
    expect(problemsOf(identify(null))).toEqual([]);
    expect(problemsOf(identify('ann@example.com'))).toEqual([]);
  });

  it('still names bad free-form fields when the rest of the message is wrong too', () => {
    expect(
      fieldsOf({ type: 'track', messageId: 'm', properties: { 'a.b': 1 }, event: '' }),
    ).toEqual(['event', 'userId', 'properties["a.b"]']);
  });
});
