import type { JsonObject } from '@bufbuild/protobuf';
import { compile } from './compile';
import { RuleError, RuleErrorCode } from '../language/errors';
import { oracle } from '../oracle/oracle';
import { emptyState, type RuleEvent } from '../incremental/state';
import { ruleFromJson } from '../testing/arbitraries';
import { stateAfter, trackEvent } from '../testing/replay';

// Every measure and window kind, checked on the compiled predicate and, as a cross-check, on the
// oracle (the two must agree on every example).

function evaluate(
  json: JsonObject,
  events: RuleEvent[],
  now: string,
  init: JsonObject = {},
): boolean {
  const rule = ruleFromJson(json);
  const state = stateAfter({ rule, events, init: { traits: init } });
  const compiled = compile({ rule })(state, Date.parse(now));
  const expected = oracle({
    rule,
    history: { traits: init, tags: [], lists: [], segments: {}, events },
    now: Date.parse(now),
  });
  expect(compiled).toBe(expected);
  return compiled;
}

const order = (timestamp: string, properties: JsonObject = {}): RuleEvent =>
  trackEvent('Order Completed', timestamp, properties);
const event = (fields: JsonObject, timeZone = 'UTC'): JsonObject => ({
  timeZone,
  condition: { event: { name: 'Order Completed', ...fields } },
});

describe('event aggregates', () => {
  const orders = [
    order('2024-06-01T10:00:00Z', { total: 500, sku: 'a' }),
    order('2024-06-10T10:00:00Z', { total: 350, sku: 'b' }),
    order('2024-06-14T10:00:00Z', { total: 'n/a', sku: 'a' }),
    trackEvent('Page Viewed', '2024-06-14T11:00:00Z', { total: 1000 }),
  ];
  const now = '2024-06-15T12:00:00Z';

  it.each<[string, JsonObject, boolean]>([
    ['count > 2', { count: { gt: 2 } }, true],
    ['count = 3', { count: { eq: 3 } }, true],
    ['count ≠ 3', { count: { ne: 3 } }, false],
    ['count between 4 and 9', { count: { between: { min: 4, max: 9 } } }, false],
    ['never did (count = 0) another event', { count: { eq: 0 }, name: 'Order Refunded' }, true],
    ['sum of total > 800 (non-numbers ignored)', { sum: { property: 'total', gt: 800 } }, true],
    ['sum of total ≥ 851', { sum: { property: 'total', gte: 851 } }, false],
    ['avg of total = 425', { avg: { property: 'total', eq: 425 } }, true],
    ['min of total < 400', { min: { property: 'total', lt: 400 } }, true],
    ['max of total ≤ 500', { max: { property: 'total', lte: 500 } }, true],
    ['distinct count of sku = 2', { distinctCount: { property: 'sku', eq: 2 } }, true],
    [
      'avg of a property no event has has no value',
      { avg: { property: 'missing', lt: 1_000_000 } },
      false,
    ],
    ['sum of a property no event has is 0', { sum: { property: 'missing', eq: 0 } }, true],
  ])('%s', (_name, fields, expected) => {
    expect(evaluate(event(fields), orders, now)).toBe(expected);
  });

  it('applies property filters with every operator kind', () => {
    const events = [
      order('2024-06-01T10:00:00Z', {
        products: [{ category: 'Winter Apparel', price: 80 }],
        when: '2024-05-30',
      }),
      order('2024-06-02T10:00:00Z', { products: [{ category: 'summer', price: 20 }] }),
    ];
    const winter = { path: 'products.category', equals: 'winter apparel', caseInsensitive: true };
    expect(
      evaluate(event({ count: { eq: 1 }, where: [winter] }), events, '2024-06-03T00:00:00Z'),
    ).toBe(true);
    expect(
      evaluate(
        event({ count: { eq: 2 }, where: [{ path: 'products.price', gte: 20 }] }),
        events,
        '2024-06-03T00:00:00Z',
      ),
    ).toBe(true);
    expect(
      evaluate(
        event({ count: { eq: 1 }, where: [{ path: 'when', before: { date: '2024-06-01' } }] }),
        events,
        '2024-06-03T00:00:00Z',
      ),
    ).toBe(true);
    expect(
      evaluate(
        event({ sum: { property: 'products.price', eq: 100 } }),
        events,
        '2024-06-03T00:00:00Z',
      ),
    ).toBe(true);
  });

  it('counts array-valued properties element by element for sums and distinct counts', () => {
    const events = [
      order('2024-06-01T10:00:00Z', { skus: ['a', 'b', null] }),
      order('2024-06-02T10:00:00Z', { skus: ['b', 'c'] }),
    ];
    expect(
      evaluate(
        event({ distinctCount: { property: 'skus', eq: 3 } }),
        events,
        '2024-06-03T00:00:00Z',
      ),
    ).toBe(true);
  });

  it('sums exactly, whatever the order events arrive in', () => {
    const cents = [0.1, 0.2, 0.3, 1e16, -1e16, 0.7];
    const forward = cents.map((total, index) =>
      order(`2024-06-0${index + 1}T00:00:00Z`, { total }),
    );
    const json = event({ sum: { property: 'total', eq: 1.3 } });
    expect(evaluate(json, forward, '2024-06-10T00:00:00Z')).toBe(true);
    expect(evaluate(json, [...forward].reverse(), '2024-06-10T00:00:00Z')).toBe(true);
  });
});

describe('windows', () => {
  it.each<[string, JsonObject, string, string, boolean]>([
    [
      'last 7 days includes the start of the 7th calendar day back',
      { lastDays: 7 },
      '2024-06-09T00:00:00Z',
      '2024-06-15T23:00:00Z',
      true,
    ],
    [
      'last 7 days excludes the 8th day back',
      { lastDays: 7 },
      '2024-06-08T23:59:59Z',
      '2024-06-15T00:00:00Z',
      false,
    ],
    [
      'last 2 weeks is last 14 days',
      { lastWeeks: 2 },
      '2024-06-02T00:00:00Z',
      '2024-06-15T12:00:00Z',
      true,
    ],
    [
      'last 24 hours includes the start of the 24th hour back',
      { lastHours: 24 },
      '2024-06-14T13:00:00Z',
      '2024-06-15T12:59:00Z',
      true,
    ],
    [
      'last 24 hours excludes the 25th hour back',
      { lastHours: 24 },
      '2024-06-14T12:59:59Z',
      '2024-06-15T12:00:00Z',
      false,
    ],
    [
      'last 30 minutes is the current minute and 29 before',
      { lastMinutes: 30 },
      '2024-06-15T11:31:00Z',
      '2024-06-15T12:00:59Z',
      true,
    ],
    [
      'last 30 minutes excludes the 31st minute back',
      { lastMinutes: 30 },
      '2024-06-15T11:30:59Z',
      '2024-06-15T12:00:00Z',
      false,
    ],
    [
      'last month starts the day after today minus a month',
      { lastMonths: 1 },
      '2024-05-16T00:00:00Z',
      '2024-06-15T12:00:00Z',
      true,
    ],
    [
      'last month excludes today minus a month',
      { lastMonths: 1 },
      '2024-05-15T23:00:00Z',
      '2024-06-15T12:00:00Z',
      false,
    ],
    [
      'this month',
      { calendar: { month: 0 } },
      '2024-06-01T00:00:00Z',
      '2024-06-15T12:00:00Z',
      true,
    ],
    [
      'last month (calendar) excludes this month',
      { calendar: { month: -1 } },
      '2024-06-01T00:00:00Z',
      '2024-06-15T12:00:00Z',
      false,
    ],
    [
      'last calendar year',
      { calendar: { year: -1 } },
      '2023-01-01T00:00:00Z',
      '2024-06-15T12:00:00Z',
      true,
    ],
    [
      'last calendar year excludes this year',
      { calendar: { year: -1 } },
      '2024-01-01T00:00:00Z',
      '2024-06-15T12:00:00Z',
      false,
    ],
    ['yesterday', { calendar: { day: -1 } }, '2024-06-14T23:59:59Z', '2024-06-15T00:00:01Z', true],
    [
      'last week (Monday to Sunday)',
      { calendar: { week: -1 } },
      '2024-06-09T23:00:00Z',
      '2024-06-10T01:00:00Z',
      true,
    ],
    [
      'this quarter',
      { calendar: { quarter: 0 } },
      '2024-04-01T00:00:00Z',
      '2024-06-30T12:00:00Z',
      true,
    ],
    [
      'between two dates includes from',
      { between: { from: { date: '2024-06-01' }, to: { date: '2024-06-08' } } },
      '2024-06-01T00:00:00Z',
      '2025-01-01T00:00:00Z',
      true,
    ],
    [
      'between two dates excludes to',
      { between: { from: { date: '2024-06-01' }, to: { date: '2024-06-08' } } },
      '2024-06-08T00:00:00Z',
      '2024-06-08T01:00:00Z',
      false,
    ],
    ['all time', {}, '2001-01-01T00:00:00Z', '2024-06-15T12:00:00Z', true],
  ])('%s', (_name, window, eventAt, now, expected) => {
    const fields: JsonObject =
      Object.keys(window).length === 0 ? { count: { gte: 1 } } : { count: { gte: 1 }, window };
    expect(evaluate(event(fields), [order(eventAt)], now)).toBe(expected);
  });

  it('reckons calendar windows in the rule time zone', () => {
    const lateEvening = [order('2024-06-14T22:30:00Z')];
    expect(
      evaluate(
        event({ count: { gte: 1 }, window: { calendar: { day: 0 } } }),
        lateEvening,
        '2024-06-15T06:00:00Z',
      ),
    ).toBe(false);
    expect(
      evaluate(
        event({ count: { gte: 1 }, window: { calendar: { day: 0 } } }, 'Europe/Berlin'),
        lateEvening,
        '2024-06-15T06:00:00Z',
      ),
    ).toBe(true);
  });

  it('makes "last 7 days" seven calendar days across a DST change (one of 23 hours)', () => {
    const json = event({ count: { gte: 1 }, window: { lastDays: 7 } }, 'Europe/Berlin');
    // Berlin midnight of 25 March 2024 is 23:00 UTC on the 24th; 31 March has 23 hours.
    expect(evaluate(json, [order('2024-03-24T23:00:00Z')], '2024-03-31T21:59:59Z')).toBe(true);
    expect(evaluate(json, [order('2024-03-24T22:59:59Z')], '2024-03-31T12:00:00Z')).toBe(false);
  });

  it('puts a late event in its own bucket', () => {
    const json = event({ count: { eq: 1 }, window: { lastDays: 3 } });
    expect(
      evaluate(
        json,
        [order('2024-06-01T00:00:00Z'), order('2024-06-14T00:00:00Z')],
        '2024-06-15T00:00:00Z',
      ),
    ).toBe(true);
  });
});

describe('distinct-count cap', () => {
  it('answers exactly past the cap because thresholds may not exceed it', () => {
    const rule = ruleFromJson(
      event({ distinctCount: { property: 'sku', gte: 3 }, window: { lastDays: 30 } }),
    );
    const events = ['a', 'b', 'c', 'd', 'e'].map((sku, index) =>
      order(`2024-06-0${index + 1}T00:00:00Z`, { sku }),
    );
    const limits = { distinctValuesCap: 3 };
    const state = stateAfter({ rule, events, limits });
    const bucket = Object.values(Object.values(state.aggregates)[0]?.buckets ?? {});
    expect(bucket.map((accumulator) => accumulator.values?.length)).toEqual([1, 1, 1, 1, 1]);
    expect(compile({ rule, limits })(state, Date.parse('2024-06-10T00:00:00Z'))).toBe(true);
    const saturating = stateAfter({
      rule: ruleFromJson(event({ distinctCount: { property: 'sku', lt: 3 } })),
      events,
      limits,
    });
    expect(Object.values(Object.values(saturating.aggregates)[0]?.buckets ?? {})).toEqual([
      { count: 0, saturated: true },
    ]);
    expect(
      compile({ rule: ruleFromJson(event({ distinctCount: { property: 'sku', lt: 3 } })), limits })(
        saturating,
        Date.parse('2024-06-10T00:00:00Z'),
      ),
    ).toBe(false);
  });
});

describe('membership conditions', () => {
  const state = emptyState({
    tags: ['vip'],
    lists: ['newsletter'],
    segments: { 'big-spenders': 1 },
  });
  it.each<[JsonObject, boolean]>([
    [{ inSegment: 'big-spenders' }, true],
    [{ notInSegment: 'big-spenders' }, false],
    [{ inList: 'newsletter' }, true],
    [{ notInList: 'blocked' }, true],
    [{ hasTag: 'vip' }, true],
    [{ lacksTag: 'vip' }, false],
    [{ none: { conditions: [{ hasTag: 'vip' }, { inList: 'blocked' }] } }, false],
    [{ any: { conditions: [{ hasTag: 'x' }, { inList: 'newsletter' }] } }, true],
    [{ all: { conditions: [{ hasTag: 'vip' }, { inList: 'blocked' }] } }, false],
  ])('%j is %s', (condition, expected) => {
    expect(compile({ rule: ruleFromJson({ condition }) })(state, 0)).toBe(expected);
  });
});

describe('account rules', () => {
  it('counts contacts meeting a condition', () => {
    const rule = ruleFromJson({
      audience: 'AUDIENCE_ACCOUNTS',
      condition: {
        contacts: { where: { trait: { path: 'active', equals: true } }, count: { gte: 3 } },
      },
    });
    const contact = (active: boolean) => emptyState({ traits: { active } });
    const predicate = compile({ rule });
    expect(
      predicate(emptyState({ contacts: [contact(true), contact(true), contact(false)] }), 0),
    ).toBe(false);
    expect(
      predicate(emptyState({ contacts: [contact(true), contact(true), contact(true)] }), 0),
    ).toBe(true);
  });

  it('counts contacts in a segment', () => {
    const rule = ruleFromJson({
      audience: 'AUDIENCE_ACCOUNTS',
      condition: { contacts: { where: { inSegment: 'champions' }, count: { gte: 2 } } },
    });
    const contacts = [
      emptyState({ segments: { champions: 1 } }),
      emptyState({ segments: { champions: 2 } }),
    ];
    expect(compile({ rule })(emptyState({ contacts }), 0)).toBe(true);
  });
});

describe('compile', () => {
  it('refuses an invalid rule with a RuleError listing the violations', () => {
    const rule = ruleFromJson({ condition: { all: { conditions: [] } } });
    expect(() => compile({ rule })).toThrow(RuleError);
    try {
      compile({ rule });
    } catch (error) {
      expect((error as RuleError).code).toBe(RuleErrorCode.InvalidRule);
      expect((error as RuleError).violations.map((violation) => violation.path)).toEqual([
        'condition.all.conditions',
      ]);
    }
  });

  it('accepts a Date as now', () => {
    const rule = ruleFromJson({ condition: { trait: { path: 'at', before: { daysAgo: 1 } } } });
    expect(
      compile({ rule })(
        emptyState({ traits: { at: '2024-01-01' } }),
        new Date('2024-06-01T00:00:00Z'),
      ),
    ).toBe(true);
  });
});
