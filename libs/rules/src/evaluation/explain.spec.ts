import { toJson } from '@bufbuild/protobuf';
import { RuleExplanationSchema } from '@shoal/contracts';
import { explain } from './explain';
import { emptyState } from '../incremental/state';
import { ruleFromJson } from '../testing/arbitraries';
import { stateAfter, trackEvent } from '../testing/replay';

describe('explain', () => {
  const rule = ruleFromJson({
    condition: {
      all: {
        conditions: [
          { event: { name: 'Order Completed', count: { gt: 1 }, window: { lastDays: 90 } } },
          { trait: { path: 'plan', equals: 'pro' } },
          { none: { conditions: [{ inSegment: 'churned' }] } },
          { event: { name: 'Order Completed', avg: { property: 'total', gt: 10 } } },
        ],
      },
    },
  });
  const events = ['2024-05-01', '2024-05-20', '2024-06-01'].map((day) =>
    trackEvent('Order Completed', `${day}T10:00:00Z`, { total: 20 }),
  );
  const state = stateAfter({
    rule,
    events,
    init: { traits: { plan: 'free' }, segments: { churned: 1 } },
  });
  const explanation = explain({ rule, state, now: Date.parse('2024-06-15T00:00:00Z') });

  it('mirrors the rule node by node, with paths and values', () => {
    const condition = explanation.condition;
    expect(explanation.matched).toBe(false);
    expect(condition?.path).toBe('condition');
    expect(condition?.summary).toBe('all: 2 of 4 conditions match (needs all)');
    expect(condition?.children.map((child) => [child.path, child.matched])).toEqual([
      ['condition.all.conditions[0].event', true],
      ['condition.all.conditions[1].trait', false],
      ['condition.all.conditions[2]', false],
      ['condition.all.conditions[3].event', true],
    ]);
    expect(condition?.children[2]?.children[0]?.path).toBe(
      'condition.all.conditions[2].none.conditions[0]',
    );
  });

  it('shows what each leaf observed against what it needed', () => {
    const summaries = explanation.condition?.children.map((child) => child.summary);
    expect(summaries).toEqual([
      'count of Order Completed in the last 90 days = 3 (needs > 1)',
      'trait plan = "free" (needs equals "pro")',
      'none: 1 of 1 conditions match (needs none)',
      'avg of Order Completed.total over all time = 20 (needs > 10)',
    ]);
    expect(explanation.condition?.children[2]?.children[0]?.summary).toBe(
      'member of segment churned since 1970-01-01T00:00:00.001Z (needs member)',
    );
    expect(toJson(RuleExplanationSchema, explanation)).toMatchObject({
      condition: { children: [{ observed: 3 }, { observed: 'free' }, {}, { observed: 20 }] },
    });
  });

  it('shows a sum of decimal amounts without binary rounding noise, and keeps the value exact', () => {
    const sum = ruleFromJson({
      condition: { event: { name: 'Order Completed', sum: { property: 'total', gt: 0.25 } } },
    });
    const orders = [
      trackEvent('Order Completed', '2024-05-01T10:00:00Z', { total: 0.1 }),
      trackEvent('Order Completed', '2024-05-02T10:00:00Z', { total: 0.2 }),
    ];
    const json = toJson(
      RuleExplanationSchema,
      explain({
        rule: sum,
        state: stateAfter({ rule: sum, events: orders }),
        now: Date.parse('2024-06-01T00:00:00Z'),
      }),
    ) as { condition: { summary: string; observed: number } };
    expect(json.condition.summary).toBe(
      'sum of Order Completed.total over all time = 0.3 (needs > 0.25)',
    );
    expect(json.condition.observed).toBe(0.1 + 0.2);
    expect(json.condition.observed).not.toBe(0.3);
  });

  it('says when the value will next change', () => {
    const timed = ruleFromJson({
      condition: { event: { name: 'Visit', lastSeen: { before: { daysAgo: 40 } } } },
    });
    const visited = stateAfter({
      rule: timed,
      events: [trackEvent('Visit', '2024-01-01T00:00:00Z')],
    });
    const json = toJson(
      RuleExplanationSchema,
      explain({ rule: timed, state: visited, now: Date.parse('2024-01-02T00:00:00Z') }),
    );
    expect(json).toEqual({
      evaluatedAt: '2024-01-02T00:00:00Z',
      nextChangeAt: '2024-02-10T00:00:00.001Z',
      condition: {
        path: 'condition.event',
        summary:
          'last did Visit at 2024-01-01T00:00:00.000Z (needs the last time before 40 days ago (2023-11-23T00:00:00.000Z))',
        observed: '2024-01-01T00:00:00.000Z',
      },
    });
  });

  it('says when a missing trait or an empty aggregate decides', () => {
    const missing = ruleFromJson({
      condition: {
        any: {
          conditions: [
            { trait: { path: 'age', gt: 18 } },
            { event: { name: 'X', max: { property: 'p', gt: 1 } } },
          ],
        },
      },
    });
    const children = explain({
      rule: missing,
      state: emptyState(),
      now: 0,
    }).condition?.children.map((child) => child.summary);
    expect(children).toEqual([
      'trait age is missing (needs > 18)',
      'max of X.p over all time has no value (needs > 1)',
    ]);
  });

  it('notes when the distinct-value cap applied', () => {
    const distinct = ruleFromJson({
      condition: { event: { name: 'View', distinctCount: { property: 'sku', gte: 2 } } },
    });
    const limits = { distinctValuesCap: 2 };
    const views = ['a', 'b', 'c'].map((sku) => trackEvent('View', '2024-01-01T00:00:00Z', { sku }));
    const node = explain({
      rule: distinct,
      state: stateAfter({ rule: distinct, events: views, limits }),
      now: 0,
      limits,
    }).condition;
    expect(node?.summary).toBe('distinct count of View.sku over all time > 2 (needs ≥ 2)');
    expect(node?.notes).toHaveLength(1);
  });

  it('explains each contact of an account', () => {
    const accounts = ruleFromJson({
      audience: 'AUDIENCE_ACCOUNTS',
      condition: {
        contacts: { where: { trait: { path: 'active', equals: true } }, count: { gte: 2 } },
      },
    });
    const contacts = [
      emptyState({ traits: { active: true } }),
      emptyState({ traits: { active: false } }),
    ];
    const node = explain({ rule: accounts, state: emptyState({ contacts }), now: 0 }).condition;
    expect(node?.summary).toBe('1 of 2 contacts match (needs ≥ 2)');
    expect(node?.children.map((child) => child.matched)).toEqual([true, false]);
  });
});
