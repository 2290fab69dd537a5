import type { JsonObject } from '@bufbuild/protobuf';
import { PRODUCT_EXAMPLES } from '@shoal/rules/testing';

/** A small seeded generator (mulberry32), so a seed always gives the same stream. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Draws profile ranks 0..n-1 with probability proportional to 1 / (rank + 1)^exponent: a few
 * people send most events, most send a few, as on a real site.
 */
export function zipf(n: number, exponent: number, next: () => number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) {
    total += 1 / Math.pow(rank + 1, exponent);
    cumulative[rank] = total;
  }
  return () => {
    const target = next() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((cumulative[mid] as number) < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

/** The upstream user id of the profile of rank `rank`; ingestion files it as `user:<id>`. */
export const userIdOf = (rank: number): string => `u${rank}`;
export const profileIdOf = (rank: number): string => `user:${userIdOf(rank)}`;

const DAY_MS = 86_400_000;
const CATEGORIES = ['winter apparel', 'shoes', 'accessories', 'outdoor', 'home'];
const PLANS = ['free', 'basic', 'pro', 'gold'];
const PAGES = ['/', '/sale', '/winter', '/retirement', '/checkout'];

/** One upstream event in the Segment-spec JSON form, keyed as upstream libraries key it. */
export interface UpstreamEvent {
  readonly key: string;
  readonly value: string;
  /** The event name (or "identify"), for the report's mix. */
  readonly kind: string;
}

/**
 * The event stream: profiles drawn by Zipf (after the first `cover` events, which come from
 * ranks 0, 1, 2, … in turn, so a run can make sure every profile exists); a mix of orders (with totals and product
 * categories), cart additions, page views, email opens, content views (some on retirement
 * planning) and identifies changing plan and consent; timestamps over the last ~14 months
 * (most of them recent), so windows, "last calendar year" and recency rules all have work.
 */
export class EventStream {
  private readonly next: () => number;
  private readonly pick: () => number;
  private sequence = 0;

  constructor(
    private readonly profiles: number,
    exponent: number,
    private readonly seed: number,
    private readonly now: () => number,
    private readonly cover = 0,
  ) {
    this.next = seeded(seed);
    this.pick = zipf(profiles, exponent, this.next);
  }

  /** The next event; `at` stamps it (else a time drawn from the last ~14 months). */
  event(at?: number): UpstreamEvent {
    const next = this.next;
    const n = this.sequence++;
    const userId = userIdOf(n < Math.min(this.cover, this.profiles) ? n : this.pick());
    const timestamp = new Date(at ?? this.now() - Math.floor(next() * next() * 420 * DAY_MS));
    const roll = next();
    let body: Record<string, unknown>;
    let kind: string;
    if (roll < 0.08) {
      kind = 'identify';
      body = {
        type: 'identify',
        userId,
        traits: { plan: PLANS[Math.floor(next() * PLANS.length)], marketing_consent: next() < 0.6 },
      };
    } else {
      const track = (event: string, properties: Record<string, unknown>) => {
        kind = event;
        return { type: 'track', userId, event, properties };
      };
      if (roll < 0.2)
        body = track('Order Completed', {
          total: Math.round(next() * 50_000) / 100,
          products: [{ category: CATEGORIES[Math.floor(next() * CATEGORIES.length)] }],
        });
      else if (roll < 0.3)
        body = track('Product Added', { sku: `sku-${Math.floor(next() * 500)}` });
      else if (roll < 0.4)
        body = track('Email Opened', { campaign: `c${Math.floor(next() * 20)}` });
      else if (roll < 0.55)
        body = track('Content Viewed', {
          topic: next() < 0.3 ? 'retirement-planning' : 'markets',
        });
      else body = track('Page Viewed', { path: PAGES[Math.floor(next() * PAGES.length)] });
      kind = String(body.event);
    }
    return {
      key: userId,
      kind,
      value: JSON.stringify({
        ...body,
        messageId: `b${this.seed}-${n}`,
        timestamp: timestamp.toISOString(),
      }),
    };
  }

  get size(): number {
    return this.profiles;
  }
}

/** The names of the stream's events, the only ones segments of the stream depend on. */
export const STREAM_EVENTS = [
  'Order Completed',
  'Product Added',
  'Email Opened',
  'Content Viewed',
  'Page Viewed',
];

/** The probe event of the latency measure and the segment it enters. */
export const PROBE_EVENT = 'Bench Probe';
/** The event of the time-driven exits measure: its segment holds a profile for the current UTC minute. */
export const BEAT_EVENT = 'Bench Beat';

/** A segment the bench creates: its rule JSON and how it is refreshed. */
export interface SegmentPlan {
  readonly key: string;
  readonly name: string;
  readonly rule: JsonObject;
  readonly scheduled?: boolean;
  /** Rule JSON whose `inSegment` / `inList` values are keys of other plans, resolved to ids. */
  readonly references?: readonly string[];
}

/** The `i`-th generated rule over the given event names: counts, sums, recency, "never did", traits. */
export function generatedRule(i: number, events: readonly string[]): JsonObject {
  const name = events[i % events.length] as string;
  const days = [7, 30, 90, 365][i % 4] as number;
  switch (i % 5) {
    case 0:
      return {
        condition: { event: { name, count: { gte: 1 + (i % 3) }, window: { lastDays: days } } },
      };
    case 1:
      return {
        condition: {
          event: { name, sum: { property: 'total', gt: 100 + 10 * i }, window: { lastDays: days } },
        },
      };
    case 2:
      return { condition: { event: { name, lastSeen: { withinLast: { days } } } } };
    case 3:
      return { condition: { event: { name, count: { eq: 0 }, window: { lastDays: days } } } };
    default:
      return {
        condition: {
          all: {
            conditions: [
              { trait: { path: 'plan', equals: PLANS[i % PLANS.length] as string } },
              { event: { name, count: { gte: 1 } } },
            ],
          },
        },
      };
  }
}

/**
 * The `i`-th segment of the wide run (h): the first `dependent` are generated rules over the
 * stream's events; the others name events the stream never has (never "never did", which every
 * profile meets whatever it does).
 */
export function wideRule(i: number, dependent: number): JsonObject {
  if (i < dependent) return generatedRule(i, STREAM_EVENTS);
  const name = `Unused ${i}`;
  return i % 2 === 0
    ? { condition: { event: { name, count: { gte: 1 }, window: { lastDays: 30 } } } }
    : { condition: { event: { name, lastSeen: { withinLast: { days: 7 } } } } };
}

/**
 * The K segments of the main run: the product examples, a static list and a segment on it,
 * segment references, the probe and beat segments of the latency and timer measures, one
 * SCHEDULED segment, then generated rules over the stream's events up to `count` in all.
 */
export function segmentPlans(count: number): SegmentPlan[] {
  const examples = PRODUCT_EXAMPLES;
  const plans: SegmentPlan[] = [
    { key: 'loyal', name: 'Loyal but lapsed', rule: examples.loyalButLapsed.json },
    {
      key: 'winter',
      name: 'Winter buyers not opening',
      rule: examples.winterBuyersNotOpening.json,
    },
    { key: 'retirement', name: 'Retirement readers', rule: examples.retirementReaders.json },
    { key: 'cart', name: 'Cart abandoners', rule: examples.cartAbandoners.json },
    { key: 'new', name: 'New buyers', rule: examples.newBuyers.json },
    {
      key: 'vips',
      name: 'VIPs',
      rule: { condition: { inList: 'vipList' } },
      references: ['vipList'],
    },
    {
      key: 'loyalPro',
      name: 'Loyal pro customers',
      rule: {
        condition: {
          all: {
            conditions: [{ inSegment: 'loyal' }, { trait: { path: 'plan', equals: 'pro' } }],
          },
        },
      },
      references: ['loyal'],
    },
    {
      key: 'readersNotLoyal',
      name: 'Readers not yet loyal',
      rule: {
        condition: {
          all: { conditions: [{ inSegment: 'retirement' }, { notInSegment: 'loyal' }] },
        },
      },
      references: ['retirement', 'loyal'],
    },
    {
      key: 'probe',
      name: 'Bench probes',
      rule: { condition: { event: { name: PROBE_EVENT, count: { gte: 1 } } } },
    },
    {
      key: 'beat',
      name: 'Bench beats in the last minute',
      rule: {
        condition: {
          event: {
            name: BEAT_EVENT,
            count: { gte: 1 },
            window: { lastMinutes: 1 },
          },
        },
      },
    },
    {
      key: 'scheduled',
      name: 'Consenting buyers (refreshed)',
      scheduled: true,
      rule: {
        condition: {
          all: {
            conditions: [
              { trait: { path: 'marketing_consent', equals: true } },
              { event: { name: 'Order Completed', count: { gte: 1 } } },
            ],
          },
        },
      },
    },
  ];
  for (let i = 0; plans.length < count; i++) {
    plans.push({ key: `g${i}`, name: `Generated ${i}`, rule: generatedRule(i, STREAM_EVENTS) });
  }
  return plans;
}

/** Replaces segment and list keys in a rule by the ids they were created with. */
export function resolveReferences(rule: JsonObject, ids: ReadonlyMap<string, string>): JsonObject {
  return JSON.parse(JSON.stringify(rule), (field: string, value: unknown) =>
    (field === 'inSegment' || field === 'notInSegment' || field === 'inList') &&
    typeof value === 'string'
      ? (ids.get(value) ?? value)
      : value,
  ) as JsonObject;
}
