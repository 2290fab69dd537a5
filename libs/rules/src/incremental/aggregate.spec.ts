import { fromJson } from '@bufbuild/protobuf';
import { WindowSchema } from '@shoal/contracts';
import fc from 'fast-check';
import { applyEvent, bucketsInWindow, countInWindow, pruneBuckets } from './aggregate';
import { aggregateSpecOf, windowPlanOf } from './dependencies';
import { RuleError } from '../language/errors';
import { ruleFromJson } from '../testing/arbitraries';
import { trackEvent } from '../testing/replay';
import type { AggregateSpec, AggregateState } from './state';
import type { JsonObject } from '@bufbuild/protobuf';

function specOf(event: JsonObject, timeZone = 'UTC'): AggregateSpec {
  const rule = ruleFromJson({
    timeZone,
    condition: { event: { name: 'Order Completed', ...event } },
  });
  const condition = rule.condition?.kind.case === 'event' ? rule.condition.kind.value : undefined;
  const spec =
    condition === undefined ? undefined : aggregateSpecOf({ event: condition, timeZone });
  if (spec === undefined) throw new Error('not an aggregate');
  return spec;
}

const DAY = 86_400_000;
const dayOf = (iso: string): string => String(Math.floor(Date.parse(iso) / DAY));

describe('applyEvent', () => {
  const spec = specOf({ sum: { property: 'total', gt: 0 }, window: { lastDays: 7 } });

  it('adds an event to the bucket of its own day', () => {
    const state = applyEvent({
      state: undefined,
      spec,
      event: trackEvent('Order Completed', '2024-06-01T10:00:00Z', { total: 5 }),
    });
    expect(state?.buckets).toEqual({
      [dayOf('2024-06-01')]: { count: 1, sum: [5], min: 5, max: 5 },
    });
  });

  it('puts a late event in its own (older) bucket', () => {
    let state = applyEvent({
      state: undefined,
      spec,
      event: trackEvent('Order Completed', '2024-06-05T10:00:00Z', { total: 5 }),
    });
    state = applyEvent({
      state,
      spec,
      event: trackEvent('Order Completed', '2024-06-01T10:00:00Z', { total: 2 }),
    });
    expect(Object.keys(state?.buckets ?? {}).sort()).toEqual([
      dayOf('2024-06-01'),
      dayOf('2024-06-05'),
    ]);
  });

  it('leaves the state untouched (same object) for events it does not count', () => {
    const state = applyEvent({
      state: undefined,
      spec,
      event: trackEvent('Order Completed', '2024-06-01T10:00:00Z', { total: 5 }),
    });
    expect(
      applyEvent({
        state,
        spec,
        event: trackEvent('Page Viewed', '2024-06-01T11:00:00Z', { total: 5 }),
      }),
    ).toBe(state);
    expect(
      applyEvent({
        state,
        spec,
        event: trackEvent('Order Completed', '2024-06-01T11:00:00Z', { total: 'x' }),
      }),
    ).toBe(state);
    expect(
      applyEvent({
        state: undefined,
        spec,
        event: trackEvent('Page Viewed', '2024-06-01T11:00:00Z', { total: 5 }),
      }),
    ).toBeUndefined();
  });

  it('never mutates the state it is given', () => {
    const state = applyEvent({
      state: undefined,
      spec,
      event: trackEvent('Order Completed', '2024-06-01T10:00:00Z', { total: 5 }),
    });
    const copy = JSON.parse(JSON.stringify(state)) as unknown;
    applyEvent({
      state,
      spec,
      event: trackEvent('Order Completed', '2024-06-01T12:00:00Z', { total: 1 }),
    });
    expect(state).toEqual(copy);
  });

  it.each<[string, JsonObject, string[], JsonObject]>([
    [
      'keeps all-time aggregates as one running total',
      {},
      ['2001-01-01T00:00:00Z', '2024-01-01T00:00:00Z'],
      { all: { count: 2 } },
    ],
    [
      'keeps only the events inside a fixed range',
      { window: { between: { from: { date: '2024-01-01' }, to: { date: '2024-02-01' } } } },
      ['2024-01-15T00:00:00Z', '2024-02-01T00:00:00Z'],
      { range: { count: 1 } },
    ],
  ])('%s', (_name, window, timestamps, buckets) => {
    const spec = specOf({ count: { gt: 0 }, ...window });
    const state = timestamps.reduce<AggregateState | undefined>(
      (current, timestamp) =>
        applyEvent({ state: current, spec, event: trackEvent('Order Completed', timestamp) }),
      undefined,
    );
    expect(state?.buckets).toEqual(buckets);
  });

  it('stops remembering distinct values past the cap and marks the bucket', () => {
    const distinct = specOf({ distinctCount: { property: 'sku', gt: 1 } });
    const capped = { ...distinct, distinctValuesCap: 2 };
    const state = ['a', 'b', 'a', 'c'].reduce(
      (current, sku) =>
        applyEvent({
          state: current,
          spec: capped,
          event: trackEvent('Order Completed', '2024-01-01T00:00:00Z', { sku }),
        }),
      applyEvent({
        state: undefined,
        spec: capped,
        event: trackEvent('Order Completed', '2024-01-01T00:00:00Z', {}),
      }),
    );
    expect(state?.buckets).toEqual({ all: { count: 0, saturated: true } });
  });

  it('refuses an event without a valid timestamp', () => {
    expect(() =>
      applyEvent({
        state: undefined,
        spec,
        event: { name: 'Order Completed', timestamp: NaN, properties: {} },
      }),
    ).toThrow(RuleError);
  });
});

describe('pruneBuckets', () => {
  it('drops the buckets no window can reach any more, and only those', () => {
    const spec = specOf({ count: { gt: 0 }, window: { lastDays: 7 } });
    const state = ['2024-06-01', '2024-06-02', '2024-06-08'].reduce(
      (current, day) =>
        applyEvent({
          state: current,
          spec,
          event: trackEvent('Order Completed', `${day}T10:00:00Z`),
        }),
      applyEvent({
        state: undefined,
        spec,
        event: trackEvent('Order Completed', '2024-05-01T10:00:00Z'),
      }),
    );
    const pruned = pruneBuckets({ state, spec, now: Date.parse('2024-06-08T12:00:00Z') });
    expect(Object.keys(pruned?.buckets ?? {}).sort()).toEqual([
      dayOf('2024-06-02'),
      dayOf('2024-06-08'),
    ]);
    expect(pruneBuckets({ state: pruned, spec, now: Date.parse('2024-06-08T23:00:00Z') })).toBe(
      pruned,
    );
  });

  it('keeps the hour the clock is about to fall back into (Pacific/Chatham, 03:45 back to 02:45)', () => {
    const spec = specOf({ count: { gt: 0 }, window: { lastHours: 1 } }, 'Pacific/Chatham');
    const state = applyEvent({
      state: undefined,
      spec,
      event: trackEvent('Order Completed', '2024-04-06T12:45:00Z'), // 02:30 +13:45
    });
    // At 03:30 +13:45 the hour 02:00 is not in the window, but 02:45 +12:45 comes in 15 minutes.
    expect(pruneBuckets({ state, spec, now: Date.parse('2024-04-06T13:45:00Z') })).toBe(state);
    // Once the clock has passed 03:00 again, the hour 02:00 never comes back.
    expect(pruneBuckets({ state, spec, now: Date.parse('2024-04-06T14:15:00Z') })).toEqual({
      buckets: {},
    });
  });

  it('keeps enough buckets for the longest window sharing the spec', () => {
    const spec = specOf({ count: { gt: 0 }, window: { lastMonths: 1 } });
    expect(spec.bucketing).toEqual({ unit: 'day', timeZone: 'UTC', retain: 32 });
  });

  it('never prunes all-time totals', () => {
    const spec = specOf({ count: { gt: 0 } });
    const state = applyEvent({
      state: undefined,
      spec,
      event: trackEvent('Order Completed', '2001-01-01T00:00:00Z'),
    });
    expect(pruneBuckets({ state, spec, now: Date.parse('2024-01-01T00:00:00Z') })).toBe(state);
  });
});

describe('bucketsInWindow', () => {
  const count = (n: number) => ({ count: n });
  const window = (json: JsonObject) => windowPlanOf(fromJson(WindowSchema, json), 'UTC');
  const today = 20_000;
  const now = today * DAY + 5_000;

  it('takes exactly the buckets a long window covers from a sparse state', () => {
    const state: AggregateState = {
      buckets: {
        [today - 365]: count(1),
        [today - 364]: count(2),
        [today - 200]: count(4),
        [today]: count(8),
        [today + 1]: count(16),
      },
    };
    const found = bucketsInWindow({ state, plan: window({ lastDays: 365 }), now, timeZone: 'UTC' });
    expect(found.map((a) => a.count)).toEqual([2, 4, 8]);
  });

  it('reads a state again after a fold added a bucket (states are never changed in place)', () => {
    const plan = window({ lastDays: 7 });
    const before: AggregateState = { buckets: { [today - 1]: count(1) } };
    expect(bucketsInWindow({ state: before, plan, now, timeZone: 'UTC' })).toHaveLength(1);
    const after: AggregateState = { buckets: { ...before.buckets, [today]: count(2) } };
    expect(bucketsInWindow({ state: after, plan, now, timeZone: 'UTC' })).toHaveLength(2);
  });

  it('covers buckets before 1970 (negative indices) in order', () => {
    const early = -20 * DAY + 1;
    const state: AggregateState = {
      buckets: { '-30': count(1), '-21': count(2), '-20': count(4), '-3': count(8) },
    };
    const found = bucketsInWindow({
      state,
      plan: window({ lastDays: 10 }),
      now: early + 9 * DAY,
      timeZone: 'UTC',
    });
    expect(found.map((a) => a.count)).toEqual([4]);
  });

  it('finds nothing in a state without buckets', () => {
    expect(
      bucketsInWindow({ state: undefined, plan: window({ lastDays: 30 }), now, timeZone: 'UTC' }),
    ).toEqual([]);
  });
});

describe('countInWindow', () => {
  const window = (json: JsonObject) => windowPlanOf(fromJson(WindowSchema, json), 'UTC');
  const today = 20_000;

  it('counts what the buckets a window covers hold, for any sparse state, window and instant', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.integer({ min: today - 400, max: today + 5 }).map(String),
          fc.integer({ min: 1, max: 50 }).map((count) => ({ count })),
        ),
        fc.constantFrom<JsonObject>(
          { lastDays: 1 },
          { lastDays: 7 },
          { lastDays: 365 },
          { lastWeeks: 2 },
          { lastMonths: 3 },
          { calendar: { year: -1 } },
          { calendar: { month: 0 } },
        ),
        fc.integer({ min: -40 * DAY, max: 40 * DAY }),
        (buckets, json, offset) => {
          const state: AggregateState = { buckets };
          const plan = window(json);
          const now = today * DAY + offset;
          const expected = bucketsInWindow({ state, plan, now, timeZone: 'UTC' }).reduce(
            (sum, accumulator) => sum + accumulator.count,
            0,
          );
          expect(countInWindow({ state, plan, now, timeZone: 'UTC' })).toBe(expected);
          // read again: the running counts kept for these buckets give the same answer
          expect(countInWindow({ state, plan, now, timeZone: 'UTC' })).toBe(expected);
        },
      ),
      { seed: 20261130, numRuns: 300 },
    );
  });

  it('counts nothing in a state without buckets', () => {
    expect(
      countInWindow({ state: undefined, plan: window({ lastDays: 30 }), now: 0, timeZone: 'UTC' }),
    ).toBe(0);
  });
});
