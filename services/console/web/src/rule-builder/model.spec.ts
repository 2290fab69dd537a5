import { type JsonValue as ProtoJson, fromJson, toJson } from '@bufbuild/protobuf';
import { RuleSchema } from '@shoal/contracts';
import {
  FIELD_OPERATORS,
  type JsonValue,
  MEASURES,
  REFERENCE_KINDS,
  RuleShapeError,
  newNode,
  nodePaths,
  replaceNode,
  toConditionJson,
  toDraft,
  toRuleJson,
  violationsByNode,
} from './model';

/** A rule as the API returns it: parsed by the generated schema and written back. */
const canonical = (rule: unknown): JsonValue =>
  toJson(RuleSchema, fromJson(RuleSchema, rule as ProtoJson)) as JsonValue;

const roundTrip = (rule: unknown) => toRuleJson(toDraft(canonical(rule)));

/** One operand for every FieldCondition operator. */
const FIELD_OPERANDS: Record<(typeof FIELD_OPERATORS)[number], JsonValue> = {
  equals: 'gold',
  notEquals: 3,
  in: ['DE', 'AT'],
  notIn: [1, true],
  contains: 'gmail',
  notContains: 'test',
  startsWith: 'ACME',
  endsWith: '.org',
  exists: true,
  gt: 10,
  gte: 10.5,
  lt: -2,
  lte: 0.25,
  between: { min: 1, max: 9 },
  before: { daysAgo: 40 },
  after: { date: '2026-01-31' },
  withinLast: { weeks: 2 },
  withinNext: { hours: 36 },
  during: { from: { at: '2026-11-01T00:00:00Z' }, to: { minutesFromNow: 30 } },
  calendar: { quarter: -1 },
  anniversary: { withinNextDays: 7 },
  afterTrait: { path: 'signed_up_at', within: { days: 14 } },
};

const MEASURE_VALUES: Record<(typeof MEASURES)[number], JsonValue> = {
  count: { between: { min: 2, max: 5 } },
  sum: { property: 'total', gt: 800 },
  avg: { property: 'total', lte: 50 },
  min: { property: 'price', gte: 1 },
  max: { property: 'price', lt: 1000 },
  distinctCount: { property: 'sku', eq: 3 },
  firstSeen: { withinLast: { days: 30 } },
  lastSeen: { before: { daysAgo: 40 } },
};

const WINDOWS: JsonValue[] = [
  { lastMinutes: 15 },
  { lastHours: 6 },
  { lastDays: 90 },
  { lastWeeks: 4 },
  { lastMonths: 12 },
  { calendar: { year: -1 } },
  { between: { from: { weeksAgo: 8 }, to: { daysAgo: 1 } } },
];

describe('the rule builder’s mapping to and from the rule JSON', () => {
  it.each(FIELD_OPERATORS.map((op) => [op]))('keeps a trait condition with %s', (op) => {
    const rule = { condition: { trait: { path: 'plan', [op]: FIELD_OPERANDS[op] } } };
    expect(roundTrip(rule)).toEqual(canonical(rule));
  });

  it('keeps a trait condition’s case-insensitivity and all-elements flags', () => {
    const rule = {
      condition: {
        trait: { path: 'emails', caseInsensitive: true, allElements: true, endsWith: '@acme.com' },
      },
    };
    expect(roundTrip(rule)).toEqual(canonical(rule));
  });

  it.each(MEASURES.map((m) => [m]))('keeps an event condition measured by %s', (measure) => {
    const rule = {
      condition: {
        event: {
          name: 'Order Completed',
          where: [
            { path: 'products.category', equals: 'winter apparel', caseInsensitive: true },
            { path: 'total', gte: 10 },
          ],
          [measure]: MEASURE_VALUES[measure],
          window: { lastDays: 30 },
        },
      },
    };
    expect(roundTrip(rule)).toEqual(canonical(rule));
  });

  it.each(WINDOWS.map((w) => [Object.keys(w as object)[0], w]))(
    'keeps an event window of %s',
    (_, window) => {
      const rule = { condition: { event: { name: 'Email Opened', count: { eq: 0 }, window } } };
      expect(roundTrip(rule)).toEqual(canonical(rule));
    },
  );

  it('keeps a sequence with its gap, span, window and abandonment', () => {
    const rule = {
      condition: {
        sequence: {
          steps: [
            { event: 'Product Viewed', where: [{ path: 'sku', startsWith: 'W-' }] },
            { event: 'Product Added' },
          ],
          maxGap: { hours: 2 },
          within: { days: 1 },
          window: { lastDays: 30 },
          notFollowedBy: {
            event: 'Order Completed',
            where: [{ path: 'total', gt: 0 }],
            within: { days: 2 },
          },
        },
      },
    };
    expect(roundTrip(rule)).toEqual(canonical(rule));
  });

  it.each(REFERENCE_KINDS.map((k) => [k]))('keeps a %s condition', (kind) => {
    const rule = { condition: { [kind]: kind.endsWith('Tag') ? 'vip' : 'seg_abc123' } };
    expect(roundTrip(rule)).toEqual(canonical(rule));
  });

  it('keeps an account rule’s contacts condition with its nested condition and count', () => {
    const rule = {
      audience: 'AUDIENCE_ACCOUNTS',
      condition: {
        contacts: {
          where: { all: { conditions: [{ trait: { path: 'role', equals: 'buyer' } }] } },
          count: { gte: 2 },
        },
      },
    };
    expect(roundTrip(rule)).toEqual(canonical(rule));
  });

  it('keeps nested all / any / none groups, the time zone and the audience', () => {
    const rule = {
      timeZone: 'Europe/Berlin',
      audience: 'AUDIENCE_PROFILES',
      condition: {
        all: {
          conditions: [
            { trait: { path: 'country', equals: 'DE' } },
            {
              any: {
                conditions: [
                  { hasTag: 'vip' },
                  { event: { name: 'Order Completed', count: { gte: 5 } } },
                ],
              },
            },
            { none: { conditions: [{ inList: 'do-not-contact' }] } },
            { all: {} },
          ],
        },
      },
    };
    expect(roundTrip(rule)).toEqual(canonical(rule));
  });

  it('writes every new condition the builder offers as JSON the rule schema reads', () => {
    for (const kind of [
      'group',
      'trait',
      'event',
      'sequence',
      'contacts',
      ...REFERENCE_KINDS,
    ] as const) {
      const json = { condition: toConditionJson(newNode(kind)) };
      expect(canonical(json)).toEqual(json);
    }
  });

  it.each([
    [
      'an unknown condition',
      { condition: { sometimes: {} } },
      'condition: unknown condition sometimes',
    ],
    [
      'two kinds in one condition',
      { condition: { hasTag: 'a', lacksTag: 'b' } },
      'condition: sets hasTag and lacksTag: choose one',
    ],
    [
      'a group that is not an object',
      { condition: { all: [] } },
      'condition.all: must be an object',
    ],
    [
      'an unknown rule field',
      { condition: { hasTag: 'a' }, extra: 1 },
      'rule: unknown field extra',
    ],
  ])('refuses %s, saying where', (_, rule, message) => {
    expect(() => toDraft(rule as JsonValue)).toThrow(RuleShapeError);
    expect(() => toDraft(rule as JsonValue)).toThrow(message);
  });
});

describe('editing the condition tree', () => {
  const draft = () =>
    toDraft({
      condition: {
        all: {
          conditions: [
            { trait: { path: 'plan', equals: 'gold' } },
            {
              any: { conditions: [{ hasTag: 'vip' }, { event: { name: '', count: { gte: 1 } } }] },
            },
          ],
        },
      },
    });

  it('names each condition by its path in the JSON form', () => {
    const root = draft().condition!;
    expect([...nodePaths(root).values()]).toEqual([
      'condition',
      'condition.all.conditions[0]',
      'condition.all.conditions[1]',
      'condition.all.conditions[1].any.conditions[0]',
      'condition.all.conditions[1].any.conditions[1]',
    ]);
  });

  it('shows a violation on the deepest condition its field path names', () => {
    const root = draft().condition!;
    const ids = [...nodePaths(root).keys()];
    const placed = violationsByNode(root, [
      {
        field: 'segment.rule.condition.all.conditions[1].any.conditions[1].event.name',
        description: 'required',
      },
      { field: 'rule.condition.all.conditions[0].trait.equals', description: 'bad' },
      { field: 'rule.timeZone', description: 'unknown zone' },
    ]);
    expect(placed.get(ids[4]!)?.map((v) => v.description)).toEqual(['required']);
    expect(placed.get(ids[1]!)?.map((v) => v.description)).toEqual(['bad']);
    expect(placed.get('')?.map((v) => v.description)).toEqual(['unknown zone']);
    expect(placed.has(ids[0]!)).toBe(false);
  });

  it('removes a nested condition and replaces another', () => {
    const root = draft().condition!;
    const ids = [...nodePaths(root).keys()];
    const removed = replaceNode(root, ids[3]!, undefined)!;
    const replaced = replaceNode(removed, ids[1]!, {
      id: 'x',
      kind: 'lacksTag',
      value: 'churned',
    })!;
    expect(toConditionJson(replaced)).toEqual({
      all: {
        conditions: [
          { lacksTag: 'churned' },
          { any: { conditions: [{ event: { count: { gte: 1 } } }] } },
        ],
      },
    });
  });
});
