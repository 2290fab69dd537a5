import type { JsonObject } from '@bufbuild/protobuf';
import { compile } from '../evaluation/compile';
import { explain } from '../evaluation/explain';
import { nextChangeAt } from '../incremental/next-change';
import { oracle } from '../oracle/oracle';
import type { RuleEvent } from '../incremental/state';
import { ruleFromJson } from './arbitraries';
import { PRODUCT_EXAMPLES } from './examples';
import { stateAfter, trackEvent } from './replay';
import { validateRule } from '../language/validate';

// The product documents' examples, end to end: valid, evaluated incrementally and by the oracle
// alike, and entering or leaving at the instants a user would expect.

function scenario(example: { json: JsonObject }, events: RuleEvent[], traits: JsonObject = {}) {
  const rule = ruleFromJson(example.json);
  const state = stateAfter({ rule, events, init: { traits } });
  const predicate = compile({ rule });
  const at = (iso: string): boolean => {
    const now = Date.parse(iso);
    const value = predicate(state, now);
    expect(
      oracle({ rule, history: { traits, tags: [], lists: [], segments: {}, events }, now }),
    ).toBe(value);
    return value;
  };
  const next = (iso: string): string | undefined => {
    const instant = nextChangeAt({ rule, state, now: Date.parse(iso) });
    return instant === undefined ? undefined : new Date(instant).toISOString();
  };
  return { rule, state, at, next };
}

describe('product examples', () => {
  it.each(Object.entries(PRODUCT_EXAMPLES))('%s is a valid rule', (_name, example) => {
    expect(validateRule({ rule: ruleFromJson(example.json) }).violations).toEqual([]);
  });

  describe('loyal but lapsed', () => {
    const events = [
      trackEvent('Order Completed', '2024-01-05T10:00:00Z', { total: 500 }),
      trackEvent('Order Completed', '2024-02-05T10:00:00Z', { total: 400 }),
      trackEvent('Page Viewed', '2024-03-01T09:00:00Z'),
    ];

    it('enters 40 days after the last visit, to the millisecond', () => {
      const { at, next } = scenario(PRODUCT_EXAMPLES.loyalButLapsed, events, {
        marketing_consent: true,
      });
      expect(at('2024-04-10T09:00:00.000Z')).toBe(false);
      expect(next('2024-03-20T00:00:00Z')).toBe('2024-04-10T09:00:00.001Z');
      expect(at('2024-04-10T09:00:00.001Z')).toBe(true);
      expect(next('2024-04-10T09:00:00.001Z')).toBeUndefined();
    });

    it('takes in a repeat buyer who never visited a page: not visiting in 40 days includes never', () => {
      const orders = events.filter((event) => event.name === 'Order Completed');
      const { at, next } = scenario(PRODUCT_EXAMPLES.loyalButLapsed, orders, {
        marketing_consent: true,
      });
      expect(at('2024-03-20T00:00:00Z')).toBe(true);
      expect(next('2024-03-20T00:00:00Z')).toBeUndefined();
    });

    it('stays out without marketing consent or enough spend', () => {
      expect(
        scenario(PRODUCT_EXAMPLES.loyalButLapsed, events, { marketing_consent: false }).at(
          '2024-06-01T00:00:00Z',
        ),
      ).toBe(false);
      const small = events.map((event) =>
        event.name === 'Order Completed' ? { ...event, properties: { total: 100 } } : event,
      );
      expect(
        scenario(PRODUCT_EXAMPLES.loyalButLapsed, small, { marketing_consent: true }).at(
          '2024-06-01T00:00:00Z',
        ),
      ).toBe(false);
    });
  });

  describe('winter buyers not opening emails', () => {
    const events = [
      trackEvent('Order Completed', '2023-11-20T10:00:00Z', {
        products: [{ category: 'Winter Apparel' }, { category: 'Shoes' }],
      }),
      trackEvent('Email Opened', '2024-01-10T08:00:00Z'),
    ];

    it('enters when the last opened email leaves the 90-day window, and exits when the purchase year is no longer last year', () => {
      const { at, next } = scenario(PRODUCT_EXAMPLES.winterBuyersNotOpening, events);
      expect(at('2024-04-08T12:00:00Z')).toBe(false);
      // 10 January is the 90th day back until the end of 8 April (Berlin), so the window lets go at Berlin midnight.
      expect(next('2024-04-08T12:00:00Z')).toBe('2024-04-08T22:00:00.000Z');
      expect(at('2024-04-08T22:00:00Z')).toBe(true);
      expect(next('2024-04-08T22:00:00Z')).toBe('2024-12-31T23:00:00.000Z');
    });
  });

  it('counts retirement-planning views', () => {
    const view = (topic: string, day: string) =>
      trackEvent('Content Viewed', `2024-05-${day}T10:00:00Z`, { topic });
    const { at } = scenario(PRODUCT_EXAMPLES.retirementReaders, [
      view('retirement-planning', '01'),
      view('mortgages', '02'),
      view('retirement-planning', '03'),
    ]);
    expect(at('2024-05-04T00:00:00Z')).toBe(false);
    const { at: later } = scenario(PRODUCT_EXAMPLES.retirementReaders, [
      view('retirement-planning', '01'),
      view('retirement-planning', '03'),
      view('retirement-planning', '04'),
    ]);
    expect(later('2024-05-04T11:00:00Z')).toBe(true);
  });

  describe('cart abandoners', () => {
    it('enters when two days pass with no order, with no new event', () => {
      const { at, next } = scenario(PRODUCT_EXAMPLES.cartAbandoners, [
        trackEvent('Product Added', '2024-05-01T10:00:00Z'),
      ]);
      expect(at('2024-05-03T10:00:00.000Z')).toBe(false);
      expect(next('2024-05-01T10:00:00Z')).toBe('2024-05-03T10:00:00.001Z');
      expect(at('2024-05-03T10:00:00.001Z')).toBe(true);
      // and leaves when the cart add is no longer in the last 30 days
      expect(next('2024-05-03T10:00:00.001Z')).toBe('2024-05-31T00:00:00.000Z');
    });

    it('never enters when the order follows within two days', () => {
      const { at, next } = scenario(PRODUCT_EXAMPLES.cartAbandoners, [
        trackEvent('Product Added', '2024-05-01T10:00:00Z'),
        trackEvent('Order Completed', '2024-05-02T18:00:00Z'),
      ]);
      expect(at('2024-05-10T00:00:00Z')).toBe(false);
      expect(next('2024-05-01T11:00:00Z')).toBeUndefined();
    });

    it('enters once a late order turns out to have come after the deadline', () => {
      const { at } = scenario(PRODUCT_EXAMPLES.cartAbandoners, [
        trackEvent('Order Completed', '2024-05-04T10:00:00Z'),
        trackEvent('Product Added', '2024-05-01T10:00:00Z'),
      ]);
      expect(at('2024-05-05T00:00:00Z')).toBe(true);
    });
  });

  describe('new buyers', () => {
    it('are in for 7 days after their first purchase, whatever they buy later', () => {
      const { at, next } = scenario(PRODUCT_EXAMPLES.newBuyers, [
        trackEvent('Order Completed', '2024-05-01T10:00:00Z'),
        trackEvent('Order Completed', '2024-05-05T10:00:00Z'),
      ]);
      expect(at('2024-05-03T00:00:00Z')).toBe(true);
      expect(next('2024-05-03T00:00:00Z')).toBe('2024-05-08T10:00:00.001Z');
      expect(at('2024-05-08T10:00:00.001Z')).toBe(false);
    });

    it('are not re-admitted by a late event that reveals an earlier first purchase', () => {
      const { at } = scenario(PRODUCT_EXAMPLES.newBuyers, [
        trackEvent('Order Completed', '2024-05-05T10:00:00Z'),
        trackEvent('Order Completed', '2024-03-01T10:00:00Z'),
      ]);
      expect(at('2024-05-06T00:00:00Z')).toBe(false);
    });
  });

  describe('trial activation', () => {
    const steps = (pricing: string, trial: string, invite: string) => [
      trackEvent('Pricing Viewed', pricing),
      trackEvent('Trial Started', trial),
      trackEvent('Teammate Invited', invite),
    ];

    it('matches the steps in order within 14 days', () => {
      const { at, rule, state } = scenario(
        PRODUCT_EXAMPLES.trialActivation,
        steps('2024-05-01T10:00:00Z', '2024-05-03T10:00:00Z', '2024-05-15T10:00:00Z'),
      );
      expect(at('2024-05-16T00:00:00Z')).toBe(true);
      expect(
        explain({ rule, state, now: Date.parse('2024-05-16T00:00:00Z') }).condition?.summary,
      ).toBe(
        'sequence Pricing Viewed → Trial Started → Teammate Invited completed over all time: from 2024-05-01T10:00:00.000Z to 2024-05-15T10:00:00.000Z',
      );
    });

    it('does not match steps out of order or spread over more than 14 days', () => {
      expect(
        scenario(
          PRODUCT_EXAMPLES.trialActivation,
          steps('2024-05-03T10:00:00Z', '2024-05-01T10:00:00Z', '2024-05-04T10:00:00Z'),
        ).at('2024-06-01T00:00:00Z'),
      ).toBe(false);
      expect(
        scenario(
          PRODUCT_EXAMPLES.trialActivation,
          steps('2024-05-01T10:00:00Z', '2024-05-03T10:00:00Z', '2024-05-15T10:00:01Z'),
        ).at('2024-06-01T00:00:00Z'),
      ).toBe(false);
    });
  });
});
