import { type SeenTransition, compareTransitions, transitionsMatch } from './compare';
import { expectedOutcome } from './expected';
import type { StreamEvent } from './workload';

const RULES = {
  gold: { condition: { trait: { path: 'plan', equals: 'gold' } } },
  buyers: { condition: { event: { name: 'Order Completed', count: { gte: 2 } } } },
};

let sent = 0;
function event(userId: string, body: Record<string, unknown>, messageId?: string): StreamEvent {
  sent += 1;
  const id = messageId ?? `m${sent}`;
  return {
    profileId: `user:${userId}`,
    key: userId,
    messageId: id,
    body: { messageId: id, userId, timestamp: new Date(sent * 1000).toISOString(), ...body },
  };
}
const plan = (userId: string, value: string) =>
  event(userId, { type: 'identify', traits: { plan: value } });
const order = (userId: string, messageId?: string) =>
  event(userId, { type: 'track', event: 'Order Completed', properties: {} }, messageId);

describe('the expected outcome of a stream', () => {
  it('lists each pair’s transitions in the order the input decides them', () => {
    sent = 0;
    const expected = expectedOutcome(RULES, [
      plan('a', 'gold'),
      order('a'),
      plan('a', 'basic'),
      order('a'),
      plan('a', 'gold'),
      order('b'),
    ]);
    expect(Object.fromEntries(expected.transitions)).toEqual({
      'user:a gold': ['entered', 'exited', 'entered'],
      'user:a buyers': ['entered'],
    });
    expect(Object.fromEntries(expected.causedAt)).toEqual({
      'user:a gold': [1000, 3000, 5000],
      'user:a buyers': [4000],
    });
    expect([...(expected.members.get('gold') ?? [])]).toEqual(['user:a']);
    expect(expected.profiles).toEqual(['user:a', 'user:b']);
  });

  it('counts a message sent twice once, as ingestion de-duplicates it', () => {
    const expected = expectedOutcome(RULES, [order('a', 'same'), order('a', 'same')]);
    expect(expected.transitions.get('user:a buyers')).toBeUndefined();
  });
});

describe('comparing the consumed transitions with the expected ones', () => {
  const expected = expectedOutcome(RULES, [plan('p', 'gold'), plan('p', 'basic')]);
  const seen = (id: string, sequence: number, kind: 'entered' | 'exited'): SeenTransition => ({
    id,
    profileId: 'user:p',
    segment: 'gold',
    sequence,
    kind,
  });

  it('accepts a re-delivery of the same transition id and counts it', () => {
    const c = compareTransitions(expected, [
      seen('t1', 1, 'entered'),
      seen('t1', 1, 'entered'),
      seen('t2', 2, 'exited'),
    ]);
    expect(transitionsMatch(c)).toBe(true);
    expect({ seen: c.seen, distinct: c.distinct, redelivered: c.redelivered }).toEqual({
      seen: 3,
      distinct: 2,
      redelivered: 1,
    });
  });

  it('reports a transition no record carried as missing', () => {
    const c = compareTransitions(expected, [seen('t1', 1, 'entered')]);
    expect(c.missing).toEqual(['user:p gold #2 exited']);
    expect(transitionsMatch(c)).toBe(false);
  });

  it('reports the same transition under two ids as a duplicate a consumer cannot drop', () => {
    const c = compareTransitions(expected, [
      seen('t1', 1, 'entered'),
      seen('t1-again', 1, 'entered'),
      seen('t2', 2, 'exited'),
    ]);
    expect(c.duplicated).toEqual(['user:p gold #1 entered (ids t1, t1-again)']);
    expect(transitionsMatch(c)).toBe(false);
  });

  it('reports a wrong kind or a sequence past the last as unexpected, and an id reused for another transition', () => {
    const c = compareTransitions(expected, [
      seen('t1', 1, 'entered'),
      seen('t2', 2, 'exited'),
      seen('t3', 3, 'entered'),
      seen('t1', 2, 'exited'),
    ]);
    expect(c.unexpected).toEqual(['user:p gold #3 entered']);
    expect(c.conflicting).toEqual(['t1: "user:p gold #1 entered" and "user:p gold #2 exited"']);
  });
});
