import { timestampDate } from '@bufbuild/protobuf/wkt';
import { parseSegmentEvent } from './segment-event';
import type { UpstreamLimits } from './upstream-record-limits';

const receivedAt = new Date('2026-11-23T10:00:00Z');
const limits: UpstreamLimits = {
  maxDepth: 32,
  maxKeys: 1000,
  maxKeyLength: 256,
  maxStringLength: 16384,
};

function fieldsOf(input: unknown): string[] {
  const parsed = parseSegmentEvent(input, receivedAt, limits);
  return parsed.ok ? [] : parsed.violations.map((v) => v.field);
}

describe('Segment-spec JSON events', () => {
  it('reads a track call with its properties and timestamp', () => {
    const parsed = parseSegmentEvent(
      {
        type: 'track',
        messageId: 'm-1',
        userId: 'u-1',
        event: 'Order Completed',
        properties: { total: 120.5, currency: 'EUR' },
        timestamp: '2026-11-20T08:30:00.000Z',
      },
      receivedAt,
      limits,
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
    const parsed = parseSegmentEvent(
      { type: 'identify', messageId: 'm', anonymousId: 'a', traits: { plan: 'pro' } },
      receivedAt,
      limits,
    );
    expect(parsed.ok && timestampDate(parsed.event.timestamp!).getTime()).toBe(
      receivedAt.getTime(),
    );
  });

  it('accepts numeric ids as upstream libraries sometimes send them', () => {
    const parsed = parseSegmentEvent(
      { type: 'track', messageId: 7, userId: 42, event: 'x' },
      receivedAt,
      limits,
    );
    expect(parsed.ok && parsed.event.userId).toBe('42');
  });

  it.each([
    ['not an object', 'hello', ['']],
    ['an unsupported type', { type: 'page', messageId: 'm', userId: 'u' }, ['type']],
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
});
