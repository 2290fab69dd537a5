import { toJson } from '@bufbuild/protobuf';
import { WindowSchema } from '@shoal/contracts';
import { dependenciesOf, mergeSpecs, specsOf } from './dependencies';
import { ruleFromJson } from '../testing/arbitraries';
import { PRODUCT_EXAMPLES, type ProductExampleName } from '../testing/examples';
import type { AggregateSpec } from './state';

describe('dependenciesOf', () => {
  const rule = ruleFromJson({
    timeZone: 'Europe/Berlin',
    condition: {
      all: {
        conditions: [
          { trait: { path: 'plan', equals: 'pro' } },
          {
            trait: {
              path: 'activated_at',
              afterTrait: { path: 'signed_up_at', within: { days: 2 } },
            },
          },
          {
            event: {
              name: 'Order Completed',
              where: [{ path: 'total', gt: 10 }],
              count: { gt: 1 },
              window: { lastDays: 90 },
            },
          },
          { event: { name: 'Order Completed', lastSeen: { before: { daysAgo: 40 } } } },
          {
            sequence: {
              steps: [{ event: 'Cart' }],
              notFollowedBy: { event: 'Order Completed', within: { days: 2 } },
            },
          },
          { notInSegment: 'churned' },
          { inList: 'beta' },
          { hasTag: 'vip' },
        ],
      },
    },
  });
  const dependencies = dependenciesOf({ rule });

  it('lists traits, events, segments, lists and tags read', () => {
    expect(dependencies).toMatchObject({
      traits: ['activated_at', 'plan', 'signed_up_at'],
      events: ['Cart', 'Order Completed'],
      segments: ['churned'],
      lists: ['beta'],
      tags: ['vip'],
      timeRelative: true,
      contacts: undefined,
    });
  });

  it('lists every event condition with its measure, window and spec', () => {
    expect(
      dependencies.eventConditions.map(({ path, event, measure, window }) => ({
        path,
        event,
        measure,
        window: window === undefined ? undefined : toJson(WindowSchema, window),
      })),
    ).toEqual([
      {
        path: 'condition.all.conditions[2].event',
        event: 'Order Completed',
        measure: 'count',
        window: { lastDays: 90 },
      },
      {
        path: 'condition.all.conditions[3].event',
        event: 'Order Completed',
        measure: 'lastSeen',
        window: undefined,
      },
      {
        path: 'condition.all.conditions[4].sequence',
        event: 'Cart',
        measure: 'sequence',
        window: undefined,
      },
    ]);
    expect(dependencies.specs.map((spec) => spec.kind).sort()).toEqual([
      'aggregate',
      'recency',
      'sequence',
    ]);
  });

  it('is not time-relative for static conditions and all-time aggregates', () => {
    const still = ruleFromJson({
      condition: {
        all: {
          conditions: [
            { trait: { path: 'a', before: { date: '2024-01-01' } } },
            { event: { name: 'A', count: { gt: 1 } } },
          ],
        },
      },
    });
    expect(dependenciesOf({ rule: still }).timeRelative).toBe(false);
  });

  it('collects what contacts must keep separately for account rules', () => {
    const accounts = ruleFromJson({
      audience: 'AUDIENCE_ACCOUNTS',
      condition: {
        contacts: {
          where: { event: { name: 'Login', count: { gte: 1 }, window: { lastDays: 30 } } },
          count: { gte: 3 },
        },
      },
    });
    const found = dependenciesOf({ rule: accounts });
    expect(found.specs).toEqual([]);
    expect(found.contacts?.events).toEqual(['Login']);
    expect(found.contacts?.specs).toHaveLength(1);
    expect(found.timeRelative).toBe(true);
  });
});

describe('state spec keys', () => {
  const aggregate = (json: object, timeZone = 'UTC'): AggregateSpec =>
    specsOf({
      rule: ruleFromJson({ timeZone, condition: { event: { name: 'Order Completed', ...json } } }),
    })[0] as AggregateSpec;

  it('are shared by conditions needing the same aggregate, whatever their window length or filter order', () => {
    const a = aggregate({
      where: [
        { path: 'a', equals: 1 },
        { path: 'b', equals: 2 },
      ],
      count: { gt: 1 },
      window: { lastDays: 7 },
    });
    const b = aggregate({
      where: [
        { path: 'b', equals: 2 },
        { path: 'a', equals: 1 },
      ],
      count: { lt: 9 },
      window: { lastWeeks: 12 },
    });
    expect(a.key).toBe(b.key);
    expect(mergeSpecs([a, b])).toEqual([
      { ...a, bucketing: { unit: 'day', timeZone: 'UTC', retain: 84 } },
    ]);
  });

  it('share numeric state between sum, avg, min and max of the same property', () => {
    const keys = ['sum', 'avg', 'min', 'max'].map(
      (measure) => aggregate({ [measure]: { property: 'total', gt: 1 } }).key,
    );
    expect(new Set(keys).size).toBe(1);
  });

  it('differ by bucket unit, time zone, property and accumulator', () => {
    const base = aggregate({ sum: { property: 'total', gt: 1 }, window: { lastDays: 7 } });
    expect(aggregate({ sum: { property: 'total', gt: 1 }, window: { lastHours: 7 } }).key).not.toBe(
      base.key,
    );
    expect(
      aggregate({ sum: { property: 'total', gt: 1 }, window: { lastDays: 7 } }, 'Europe/Berlin')
        .key,
    ).not.toBe(base.key);
    expect(aggregate({ sum: { property: 'tax', gt: 1 }, window: { lastDays: 7 } }).key).not.toBe(
      base.key,
    );
    expect(aggregate({ count: { gt: 1 }, window: { lastDays: 7 } }).key).not.toBe(base.key);
  });

  it('ignore the time zone where it cannot matter (minutes, all time)', () => {
    expect(aggregate({ count: { gt: 1 } }, 'Europe/Berlin').key).toBe(
      aggregate({ count: { gt: 1 } }).key,
    );
    expect(aggregate({ count: { gt: 1 }, window: { lastMinutes: 5 } }, 'Asia/Kolkata').key).toBe(
      aggregate({ count: { gt: 1 }, window: { lastMinutes: 30 } }).key,
    );
  });

  it('are deterministic strings', () => {
    expect(aggregate({ count: { gt: 1 }, window: { lastDays: 7 } }).key).toBe(
      '[1,"aggregate","count","Order Completed",[],"",["day"],"UTC",0]',
    );
  });
  // Keys are stored with the state they name, so any change to their bytes orphans stored state.
  it.each<[ProductExampleName, string[]]>([
    [
      'loyalButLapsed',
      [
        '[1,"aggregate","count","Order Completed",[],"",["all"],"",0]',
        '[1,"aggregate","count","Page Viewed",[],"",["all"],"",0]',
        '[1,"aggregate","numeric","Order Completed",[],"total",["all"],"",0]',
        '[1,"recency","Page Viewed",[],""]',
      ],
    ],
    [
      'winterBuyersNotOpening',
      [
        '[1,"aggregate","count","Email Opened",[],"",["day"],"Europe/Berlin",0]',
        '[1,"aggregate","count","Order Completed",[{"caseInsensitive":true,"equals":"winter apparel","path":"products.category"}],"",["year"],"Europe/Berlin",0]',
      ],
    ],
    [
      'retirementReaders',
      [
        '[1,"aggregate","count","Content Viewed",[{"equals":"retirement-planning","path":"topic"}],"",["all"],"",0]',
      ],
    ],
    [
      'cartAbandoners',
      ['[1,"sequence",[["Product Added",[]]],["Order Completed",[]],["day"],"UTC",100]'],
    ],
    ['newBuyers', ['[1,"recency","Order Completed",[],""]']],
    [
      'trialActivation',
      [
        '[1,"sequence",[["Pricing Viewed",[]],["Trial Started",[]],["Teammate Invited",[]]],null,["all"],"",100]',
      ],
    ],
  ])('keep their stored bytes for the product example %s', (name, keys) => {
    const rule = ruleFromJson(PRODUCT_EXAMPLES[name].json);
    expect(specsOf({ rule }).map((spec) => spec.key)).toEqual(keys);
  });
});
