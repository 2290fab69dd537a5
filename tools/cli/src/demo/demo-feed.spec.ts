import type { JsonObject } from '@bufbuild/protobuf';
import { PRODUCT_EXAMPLES, type SubjectHistory, oracle, ruleFromJson } from '@shoal/rules/testing';
import { DemoFeed, type DemoCustomer, type UpstreamMessage, demoCustomers } from './demo-feed';

const NOW = new Date('2026-11-30T12:00:00Z');

/** What each customer's messages amount to, as the rules see a profile. */
function histories(messages: readonly UpstreamMessage[]): Map<string, SubjectHistory> {
  const byUser = new Map<
    string,
    { traits: JsonObject; events: SubjectHistory['events'][number][] }
  >();
  for (const { key, value } of messages) {
    const subject = byUser.get(key) ?? { traits: {}, events: [] };
    if (value.type === 'identify') Object.assign(subject.traits, value.traits as JsonObject);
    if (value.type === 'track') {
      subject.events.push({
        name: value.event as string,
        timestamp: Date.parse(value.timestamp as string),
        properties: value.properties as JsonObject,
      });
    }
    byUser.set(key, subject);
  }
  return new Map(
    [...byUser].map(([user, s]) => [
      user,
      { traits: s.traits, tags: [], lists: [], segments: {}, events: s.events },
    ]),
  );
}

function members(
  example: keyof typeof PRODUCT_EXAMPLES,
  messages: readonly UpstreamMessage[],
  at: Date,
): string[] {
  const rule = ruleFromJson(PRODUCT_EXAMPLES[example].json);
  return [...histories(messages)]
    .filter(([, history]) => oracle({ rule, history, now: at.getTime() }))
    .map(([user]) => user);
}

const personaOf = (customers: readonly DemoCustomer[], user: string) =>
  customers.find((c) => c.userId === user)?.persona;

describe('the demo feed', () => {
  const customers = demoCustomers(40);

  it('gives every tenth customer VIP status and cycles through the personas', () => {
    expect(customers.filter((c) => c.vip).map((c) => c.userId)).toEqual([
      'demo-0001',
      'demo-0011',
      'demo-0021',
      'demo-0031',
    ]);
    expect(new Set(customers.map((c) => c.persona))).toEqual(
      new Set(['loyal', 'winter', 'reader', 'browser']),
    );
  });

  it('is the same feed for the same seed', () => {
    const a = new DemoFeed(customers, 'run', 7);
    const b = new DemoFeed(customers, 'run', 7);
    expect(a.history(NOW)).toEqual(b.history(NOW));
    expect(a.tick(NOW, 20)).toEqual(b.tick(NOW, 20));
  });

  it('gives each message a unique id and a timestamp no later than now', () => {
    const feed = new DemoFeed(customers, 'run', 1);
    const messages = [...feed.history(NOW), ...feed.tick(NOW, 50)];
    expect(new Set(messages.map((m) => m.value.messageId)).size).toBe(messages.length);
    expect(messages.every((m) => Date.parse(m.value.timestamp as string) <= NOW.getTime())).toBe(
      true,
    );
  });

  it('fills loyal-but-lapsed and winter-buyers from the history, with the matching personas only', () => {
    const history = new DemoFeed(customers, 'run', 3).history(NOW);
    const lapsed = members('loyalButLapsed', history, NOW);
    const winter = members('winterBuyersNotOpening', history, NOW);
    expect(lapsed.length).toBeGreaterThan(3);
    expect(winter).toHaveLength(customers.filter((c) => c.persona === 'winter').length);
    expect(new Set(lapsed.map((u) => personaOf(customers, u)))).toEqual(new Set(['loyal']));
    expect(members('retirementReaders', history, NOW)).toEqual([]);
  });

  it('moves people: readers enter after more views, lapsed and winter buyers leave as they come back', () => {
    const feed = new DemoFeed(customers, 'run', 3);
    const history = feed.history(NOW);
    const later = new Date(NOW.getTime() + 60_000);
    const live = [...history, ...feed.tick(later, 400)];
    expect(members('retirementReaders', live, later).length).toBeGreaterThan(0);
    expect(members('loyalButLapsed', live, later).length).toBeLessThan(
      members('loyalButLapsed', history, NOW).length,
    );
    expect(members('winterBuyersNotOpening', live, later).length).toBeLessThan(
      members('winterBuyersNotOpening', history, NOW).length,
    );
  });
});
