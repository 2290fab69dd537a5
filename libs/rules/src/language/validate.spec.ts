import { type JsonObject, create } from '@bufbuild/protobuf';
import { ListValueSchema, ValueSchema, type Value } from '@bufbuild/protobuf/wkt';
import {
  type Condition,
  ConditionSchema,
  type FieldCondition,
  RuleSchema,
  TimeOperandSchema,
  ValueRangeSchema,
} from '@shoal/contracts';
import { RuleViolationCode as Code } from './errors';
import { ruleFromJson } from '../testing/arbitraries';
import { nestingViolation, parseRule, validateRule } from './validate';

function violations(
  json: JsonObject,
  options: Omit<Parameters<typeof validateRule>[0], 'rule'> = {},
) {
  return validateRule({ rule: ruleFromJson(json), ...options }).violations.map(
    ({ path, code }) => ({ path, code }),
  );
}

const event = (fields: JsonObject): JsonObject => ({
  condition: { event: { name: 'Order Completed', ...fields } },
});

describe('validateRule', () => {
  it('accepts a rule using every kind of condition', () => {
    const json: JsonObject = {
      timeZone: 'Europe/Berlin',
      condition: {
        all: {
          conditions: [
            { trait: { path: 'plan', equals: 'pro', caseInsensitive: true } },
            { trait: { path: 'signed_up_at', before: { daysAgo: 40 } } },
            { event: { name: 'Order Completed', count: { gt: 1 }, window: { lastDays: 90 } } },
            { event: { name: 'Order Completed', lastSeen: { withinLast: { days: 7 } } } },
            { sequence: { steps: [{ event: 'A' }, { event: 'B' }], within: { days: 14 } } },
            { inSegment: 'vip' },
            { notInList: 'blocked' },
            { hasTag: 'beta' },
          ],
        },
      },
    };
    expect(validateRule({ rule: ruleFromJson(json) })).toEqual({ valid: true, violations: [] });
  });

  it('reports every problem at once, each with the path to the bad node', () => {
    expect(
      violations({
        timeZone: 'Mars/Olympus',
        condition: {
          all: {
            conditions: [
              { trait: { path: 'a..b', equals: 'x' } },
              { any: { conditions: [] } },
              { event: { name: 'Order Completed', count: { gt: 1 }, window: { lastDays: 900 } } },
              {},
            ],
          },
        },
      }),
    ).toEqual([
      { path: 'timeZone', code: Code.InvalidTimeZone },
      { path: 'condition.all.conditions[0].trait.path', code: Code.InvalidPath },
      { path: 'condition.all.conditions[1].any.conditions', code: Code.EmptyGroup },
      { path: 'condition.all.conditions[2].event.window.lastDays', code: Code.WindowTooLong },
      { path: 'condition.all.conditions[3]', code: Code.Required },
    ]);
  });

  it('names the limit and its value when a window reaches beyond the retained history', () => {
    const [violation] = validateRule({
      rule: ruleFromJson(event({ count: { gt: 0 }, window: { lastDays: 801 } })),
    }).violations;
    expect(violation?.message).toBe(
      'the window reaches up to 801 days back; the limit maxHistoryDays is 800',
    );
  });

  it.each<[string, JsonObject, boolean]>([
    ['last calendar year (~730 days back)', { calendar: { year: -1 } }, true],
    ['the calendar year before last', { calendar: { year: -2 } }, false],
    ['800 days', { lastDays: 800 }, true],
    ['115 weeks', { lastWeeks: 115 }, false],
    ['25 months', { lastMonths: 25 }, true],
    ['26 months', { lastMonths: 26 }, false],
    ['19,200 hours', { lastHours: 19_000 }, true],
  ])('applies maxHistoryDays to %s', (_name, window, valid) => {
    expect(validateRule({ rule: ruleFromJson(event({ count: { gt: 0 }, window })) }).valid).toBe(
      valid,
    );
  });

  it('allows all-time aggregates, which are kept as running totals', () => {
    expect(violations(event({ sum: { property: 'total', gt: 800 } }))).toEqual([]);
  });

  it('takes the history limit as a parameter', () => {
    expect(
      violations(event({ count: { gt: 0 }, window: { lastDays: 60 } }), {
        limits: { maxHistoryDays: 30 },
      }),
    ).toEqual([{ path: 'condition.event.window.lastDays', code: Code.WindowTooLong }]);
  });

  it('refuses a fixed window starting before the retained history when now is known', () => {
    const json = event({
      count: { gt: 0 },
      window: { between: { from: { date: '2020-01-01' }, to: { date: '2020-02-01' } } },
    });
    expect(violations(json)).toEqual([]);
    expect(violations(json, { now: Date.parse('2024-01-01T00:00:00Z') })).toEqual([
      { path: 'condition.event.window.between.from', code: Code.WindowTooLong },
    ]);
  });

  it('enforces maxConditions and maxDepth, naming the limit', () => {
    const leaf = { hasTag: 'x' };
    const wide = { condition: { any: { conditions: [leaf, leaf, leaf, leaf] } } };
    const result = validateRule({ rule: ruleFromJson(wide), limits: { maxConditions: 4 } });
    expect(result.violations).toEqual([
      {
        path: 'condition',
        code: Code.LimitExceeded,
        message: 'the rule has 5 conditions; the limit maxConditions is 4',
      },
    ]);
    const deep = {
      condition: {
        all: { conditions: [{ any: { conditions: [{ none: { conditions: [leaf] } }] } }] },
      },
    };
    expect(validateRule({ rule: ruleFromJson(deep), limits: { maxDepth: 3 } }).violations).toEqual([
      {
        path: 'condition.all.conditions[0].any.conditions[0].none.conditions[0]',
        code: Code.LimitExceeded,
        message: 'conditions are nested 4 deep here; the limit maxDepth is 3',
      },
    ]);
  });

  it('enforces maxSequenceSteps and needs two steps unless there is a follow-up', () => {
    const steps = [{ event: 'A' }, { event: 'B' }, { event: 'C' }];
    expect(
      violations({ condition: { sequence: { steps } } }, { limits: { maxSequenceSteps: 2 } }),
    ).toEqual([{ path: 'condition.sequence.steps', code: Code.LimitExceeded }]);
    expect(violations({ condition: { sequence: { steps: [{ event: 'A' }] } } })).toEqual([
      { path: 'condition.sequence.steps', code: Code.InvalidValue },
    ]);
    expect(
      violations({
        condition: {
          sequence: { steps: [{ event: 'A' }], notFollowedBy: { event: 'B', within: { days: 2 } } },
        },
      }),
    ).toEqual([]);
    expect(
      violations({
        condition: { sequence: { steps: [{ event: 'A' }], notFollowedBy: { event: 'B' } } },
      }),
    ).toEqual([{ path: 'condition.sequence.notFollowedBy.within', code: Code.Required }]);
  });

  it('keeps distinct-count thresholds within the distinct-value cap, naming it', () => {
    const json = event({ distinctCount: { property: 'sku', gte: 250 } });
    expect(validateRule({ rule: ruleFromJson(json) }).violations).toEqual([
      {
        path: 'condition.event.distinctCount.gte',
        code: Code.LimitExceeded,
        message: 'distinct-count thresholds may not exceed 200; the limit distinctValuesCap is 200',
      },
    ]);
    expect(violations(json, { limits: { distinctValuesCap: 300 } })).toEqual([]);
  });

  it.each<[string, JsonObject, { path: string; code: Code }[]]>([
    ['a missing measure', {}, [{ path: 'condition.event', code: Code.Required }]],
    [
      'a property aggregate without a property',
      { sum: { gt: 1 } },
      [{ path: 'condition.event.sum.property', code: Code.Required }],
    ],
    [
      'a comparison without an operator',
      { count: {} },
      [{ path: 'condition.event.count', code: Code.Required }],
    ],
    [
      'a NaN threshold',
      { count: { gt: 'NaN' } },
      [{ path: 'condition.event.count.gt', code: Code.InvalidValue }],
    ],
    [
      'an inverted range',
      { count: { between: { min: 3, max: 1 } } },
      [{ path: 'condition.event.count.between', code: Code.InvalidValue }],
    ],
    [
      'a window on lastSeen',
      { lastSeen: { before: { daysAgo: 3 } }, window: { lastDays: 3 } },
      [{ path: 'condition.event.window', code: Code.NotAllowedHere }],
    ],
    [
      'a future calendar window',
      { count: { gt: 0 }, window: { calendar: { month: 1 } } },
      [{ path: 'condition.event.window.calendar.month', code: Code.InvalidValue }],
    ],
    [
      'a zero-length window',
      { count: { gt: 0 }, window: { lastDays: 0 } },
      [{ path: 'condition.event.window.lastDays', code: Code.InvalidValue }],
    ],
    [
      'a relative window range',
      {
        count: { gt: 0 },
        window: { between: { from: { daysAgo: 3 }, to: { date: '2024-01-01' } } },
      },
      [{ path: 'condition.event.window.between.from.daysAgo', code: Code.NotAllowedHere }],
    ],
    [
      'an empty window range',
      {
        count: { gt: 0 },
        window: { between: { from: { date: '2024-01-02' }, to: { date: '2024-01-01' } } },
      },
      [{ path: 'condition.event.window.between', code: Code.InvalidValue }],
    ],
    [
      'a relative time in a filter',
      { count: { gt: 0 }, where: [{ path: 'at', after: { daysAgo: 2 } }] },
      [{ path: 'condition.event.where[0].after.daysAgo', code: Code.NotAllowedHere }],
    ],
    [
      'a calendar period in a filter',
      { count: { gt: 0 }, where: [{ path: 'at', calendar: { year: 0 } }] },
      [{ path: 'condition.event.where[0].calendar', code: Code.NotAllowedHere }],
    ],
    [
      'a trait anchor in a filter',
      { count: { gt: 0 }, where: [{ path: 'at', afterTrait: { path: 'x', within: { days: 1 } } }] },
      [{ path: 'condition.event.where[0].afterTrait', code: Code.NotAllowedHere }],
    ],
  ])('reports %s', (_name, fields, expected) => {
    expect(violations(event(fields))).toEqual(expected);
  });

  it('reports a missing event name', () => {
    expect(violations({ condition: { event: { count: { gt: 0 } } } })).toEqual([
      { path: 'condition.event.name', code: Code.Required },
    ]);
  });

  it.each<[string, JsonObject, { path: string; code: Code }[]]>([
    [
      'an object operand',
      { path: 'a', equals: { x: 1 } },
      [{ path: 'condition.trait.equals', code: Code.InvalidValue }],
    ],
    [
      'a null operand',
      { path: 'a', equals: null },
      [{ path: 'condition.trait.equals', code: Code.InvalidValue }],
    ],
    [
      'an empty in list',
      { path: 'a', in: [] },
      [{ path: 'condition.trait.in', code: Code.InvalidValue }],
    ],
    [
      'a bad element of an in list',
      { path: 'a', in: ['x', [1]] },
      [{ path: 'condition.trait.in[1]', code: Code.InvalidValue }],
    ],
    [
      'an empty substring',
      { path: 'a', contains: '' },
      [{ path: 'condition.trait.contains', code: Code.InvalidValue }],
    ],
    [
      'a boolean ordering',
      { path: 'a', gt: true },
      [{ path: 'condition.trait.gt', code: Code.InvalidValue }],
    ],
    [
      'a mixed between',
      { path: 'a', between: { min: 1, max: 'z' } },
      [{ path: 'condition.trait.between', code: Code.InvalidValue }],
    ],
    [
      'an inverted between',
      { path: 'a', between: { min: 5, max: 1 } },
      [{ path: 'condition.trait.between', code: Code.InvalidValue }],
    ],
    [
      'case-insensitivity on numbers',
      { path: 'a', gt: 3, caseInsensitive: true },
      [{ path: 'condition.trait.caseInsensitive', code: Code.NotAllowedHere }],
    ],
    [
      'allElements on a negative operator',
      { path: 'a', notEquals: 'x', allElements: true },
      [{ path: 'condition.trait.allElements', code: Code.NotAllowedHere }],
    ],
    [
      'a bad date',
      { path: 'a', before: { date: '2024-02-30' } },
      [{ path: 'condition.trait.before.date', code: Code.InvalidDate }],
    ],
    [
      'a missing time operand',
      { path: 'a', after: {} },
      [{ path: 'condition.trait.after', code: Code.Required }],
    ],
    [
      'a zero span',
      { path: 'a', withinLast: { days: 0 } },
      [{ path: 'condition.trait.withinLast.days', code: Code.InvalidValue }],
    ],
    [
      'a huge relative operand',
      { path: 'a', before: { daysAgo: 50_000 } },
      [{ path: 'condition.trait.before.daysAgo', code: Code.LimitExceeded }],
    ],
    ['a missing operator', { path: 'a' }, [{ path: 'condition.trait', code: Code.Required }]],
    ['a missing path', { equals: 'x' }, [{ path: 'condition.trait.path', code: Code.Required }]],
  ])('reports %s in a trait condition', (_name, trait, expected) => {
    expect(violations({ condition: { trait } })).toEqual(expected);
  });

  it('enforces maxListValues', () => {
    expect(
      violations(
        { condition: { trait: { path: 'a', in: [1, 2, 3] } } },
        { limits: { maxListValues: 2 } },
      ),
    ).toEqual([{ path: 'condition.trait.in', code: Code.LimitExceeded }]);
  });

  it('allows contacts conditions only at the top of account rules', () => {
    const contacts = {
      contacts: { where: { trait: { path: 'active', equals: true } }, count: { gte: 3 } },
    };
    expect(violations({ audience: 'AUDIENCE_ACCOUNTS', condition: contacts })).toEqual([]);
    expect(violations({ condition: contacts })).toEqual([
      { path: 'condition.contacts', code: Code.NotAllowedHere },
    ]);
    expect(
      violations({
        audience: 'AUDIENCE_ACCOUNTS',
        condition: { contacts: { where: contacts, count: { gte: 1 } } },
      }),
    ).toEqual([{ path: 'condition.contacts.where.contacts', code: Code.NotAllowedHere }]);
    expect(violations({ audience: 'AUDIENCE_ACCOUNTS', condition: { contacts: {} } })).toEqual([
      { path: 'condition.contacts.where', code: Code.Required },
      { path: 'condition.contacts.count', code: Code.Required },
    ]);
  });

  it('requires a condition and non-empty ids', () => {
    expect(violations({})).toEqual([{ path: 'condition', code: Code.Required }]);
    expect(violations({ condition: { inSegment: '' } })).toEqual([
      { path: 'condition.inSegment', code: Code.Required },
    ]);
  });
});

describe('validateRule: operands and nesting that could not be stored, published or walked', () => {
  const number = (value: number): Value =>
    create(ValueSchema, { kind: { case: 'numberValue', value } });
  const traitRule = (operator: FieldCondition['operator']) =>
    create(RuleSchema, {
      condition: { kind: { case: 'trait', value: { path: 'score', operator } } },
    });
  const nested = (depth: number, leaf: Condition): Condition => {
    let condition = leaf;
    for (let i = 0; i < depth; i++)
      condition = create(ConditionSchema, {
        kind: { case: 'all', value: { conditions: [condition] } },
      });
    return condition;
  };
  const tag = create(ConditionSchema, { kind: { case: 'hasTag', value: 'vip' } });

  it.each<[string, JsonObject, string]>([
    [
      'an equals operand',
      { trait: { path: 'a', equals: 'x'.repeat(11) } },
      'condition.trait.equals',
    ],
    ['a list item', { trait: { path: 'a', in: ['ok', 'x'.repeat(11)] } }, 'condition.trait.in[1]'],
    ['a substring', { trait: { path: 'a', contains: 'x'.repeat(11) } }, 'condition.trait.contains'],
    [
      'a range bound',
      { trait: { path: 'a', between: { min: 'a', max: 'x'.repeat(11) } } },
      'condition.trait.between.max',
    ],
    ['a trait path', { trait: { path: 'x'.repeat(11), exists: true } }, 'condition.trait.path'],
    [
      'an event name',
      { event: { name: 'x'.repeat(11), count: { gt: 0 } } },
      'condition.event.name',
    ],
    [
      'an event filter operand',
      { event: { name: 'e', where: [{ path: 'p', endsWith: 'x'.repeat(11) }], count: { gt: 0 } } },
      'condition.event.where[0].endsWith',
    ],
    [
      'a sequence step',
      { sequence: { steps: [{ event: 'x'.repeat(11) }, { event: 'b' }] } },
      'condition.sequence.steps[0].event',
    ],
    ['a tag', { hasTag: 'x'.repeat(11) }, 'condition.hasTag'],
  ])('refuses %s longer than maxOperandLength, at its path', (_name, condition, path) => {
    expect(
      validateRule({ rule: ruleFromJson({ condition }), limits: { maxOperandLength: 10 } })
        .violations,
    ).toEqual([
      {
        path,
        code: Code.LimitExceeded,
        message: expect.stringMatching(
          /is \d+ characters; the limit (maxOperandLength is 10|for ids is 64)/,
        ),
      },
    ]);
  });

  it('refuses segment and list ids longer than any id', () => {
    expect(
      validateRule({ rule: ruleFromJson({ condition: { inList: 'x'.repeat(65) } }) }).violations,
    ).toEqual([
      {
        path: 'condition.inList',
        code: Code.LimitExceeded,
        message: 'is 65 characters; the limit for ids is 64',
      },
    ]);
  });

  it.each<[string, FieldCondition['operator'], string]>([
    ['NaN', { case: 'equals', value: number(Number.NaN) }, 'condition.trait.equals'],
    ['Infinity', { case: 'gte', value: number(Number.POSITIVE_INFINITY) }, 'condition.trait.gte'],
    [
      '-Infinity in a list',
      {
        case: 'notIn',
        value: create(ListValueSchema, { values: [number(Number.NEGATIVE_INFINITY)] }),
      },
      'condition.trait.notIn[0]',
    ],
    [
      'NaN as a bound',
      {
        case: 'between',
        value: create(ValueRangeSchema, { min: number(1), max: number(Number.NaN) }),
      },
      'condition.trait.between.max',
    ],
  ])('refuses %s as an operand', (_name, operator, path) => {
    expect(validateRule({ rule: traitRule(operator) }).violations).toEqual([
      { path, code: Code.InvalidValue, message: expect.stringContaining('finite') },
    ]);
  });

  it('refuses struct and list operands without reading into them', () => {
    let deep: Value = number(1);
    for (let i = 0; i < 100_000; i++)
      deep = create(ValueSchema, {
        kind: { case: 'listValue', value: create(ListValueSchema, { values: [deep] }) },
      });
    expect(validateRule({ rule: traitRule({ case: 'equals', value: deep }) }).violations).toEqual([
      {
        path: 'condition.trait.equals',
        code: Code.InvalidValue,
        message: expect.stringContaining('a list'),
      },
    ]);
  });

  it('refuses instants outside the years 1 to 9999', () => {
    const at = (seconds: bigint, nanos = 0) =>
      traitRule({
        case: 'before',
        value: create(TimeOperandSchema, { point: { case: 'at', value: { seconds, nanos } } }),
      });
    expect(validateRule({ rule: at(253_402_300_799n) }).violations).toEqual([]);
    for (const rule of [at(253_402_300_800n), at(-62_135_596_801n), at(0n, 1_000_000_000)]) {
      expect(validateRule({ rule }).violations).toEqual([
        { path: 'condition.trait.before.at', code: Code.InvalidValue, message: expect.any(String) },
      ]);
    }
  });

  it('keeps calendar periods of trait tests within maxRelativeDays', () => {
    expect(
      validateRule({
        rule: ruleFromJson({
          condition: { trait: { path: 'd', calendar: { year: 2_000_000_000 } } },
        }),
      }).violations,
    ).toEqual([
      {
        path: 'condition.trait.calendar.year',
        code: Code.LimitExceeded,
        message: expect.stringContaining('maxRelativeDays'),
      },
    ]);
    expect(
      validateRule({
        rule: ruleFromJson({ condition: { trait: { path: 'd', calendar: { month: -12 } } } }),
      }).violations,
    ).toEqual([]);
  });

  it('checks the nesting depth without recursion, so absurd depths are refused with a path', () => {
    const rule = create(RuleSchema, { condition: nested(100_000, tag) });
    const expected = {
      path: `condition${'.all.conditions[0]'.repeat(8)}`,
      code: Code.LimitExceeded,
      message: 'conditions are nested 9 deep here; the limit maxDepth is 8',
    };
    expect(nestingViolation(rule, 8)).toEqual(expected);
    expect(validateRule({ rule }).violations).toEqual([expected]);
  });

  it('counts a contacts condition as one more level', () => {
    const rule = ruleFromJson({
      audience: 'AUDIENCE_ACCOUNTS',
      condition: {
        contacts: { where: { any: { conditions: [{ hasTag: 'a' }] } }, count: { gte: 1 } },
      },
    });
    expect(nestingViolation(rule, 3)).toBeUndefined();
    expect(nestingViolation(rule, 2)?.path).toBe('condition.contacts.where.any.conditions[0]');
  });
});

describe('parseRule', () => {
  it('parses the JSON form', () => {
    const parsed = parseRule({ condition: { hasTag: 'vip' } });
    expect(parsed.ok).toBe(true);
  });

  it('reports JSON that does not fit the rule message as one violation', () => {
    const parsed = parseRule({ condition: { trait: { path: 'a', equal: 'x' } } });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.violations[0]?.code).toBe(Code.Unparseable);
  });
});
