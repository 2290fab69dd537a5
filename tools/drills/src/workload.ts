import type { JsonValue } from '@bufbuild/protobuf';

/**
 * The segments the drills define. None names a time window, so whether a profile is in one is
 * decided by the profile's events and traits alone, in the order they were sent, never by when
 * they are evaluated: the oracle's transitions are exact whatever a crash does to the timing.
 */
export const DRILL_SEGMENTS: Readonly<Record<string, JsonValue>> = {
  'Repeat buyers': { condition: { event: { name: 'Order Completed', count: { gte: 3 } } } },
  'Big spenders': {
    condition: { event: { name: 'Order Completed', sum: { property: 'total', gt: 500 } } },
  },
  'Gold plan': { condition: { trait: { path: 'plan', equals: 'gold' } } },
  // entered on a gold plan, left again at the second order or on leaving gold: exits as often as entries
  'New gold customers': {
    condition: {
      all: {
        conditions: [
          { trait: { path: 'plan', equals: 'gold' } },
          { event: { name: 'Order Completed', count: { lt: 2 } } },
        ],
      },
    },
  },
};

export const ORDER_EVENT = 'Order Completed';
const PLANS = ['gold', 'basic', 'silver'] as const;

/** One upstream record of the steady stream: Segment-spec JSON keyed by user id. */
export interface StreamEvent {
  /** The profile Shoal makes of it (`user:` + the user id). */
  readonly profileId: string;
  readonly key: string;
  readonly messageId: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** A deterministic pseudo-random sequence (mulberry32), so a seed always gives the same stream. */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seeded event stream: orders (70%) with a total of 1–300 and plan changes (30%) over
 * `profiles` users. The timestamp is the caller's (the time it is sent, strictly increasing),
 * so trait changes apply in the order sent.
 */
export class EventStream {
  private readonly random: () => number;
  private sent = 0;

  constructor(private readonly options: { seed: number; profiles: number; runId: string }) {
    this.random = seededRandom(options.seed);
  }

  next(timestampMs: number): StreamEvent {
    const n = this.sent;
    this.sent += 1;
    const userId = `drill-${Math.floor(this.random() * this.options.profiles)}`;
    const messageId = `${this.options.runId}-${n}`;
    const common = { messageId, userId, timestamp: new Date(timestampMs).toISOString() };
    const body =
      this.random() < 0.7
        ? {
            ...common,
            type: 'track',
            event: ORDER_EVENT,
            properties: { total: 1 + Math.floor(this.random() * 300) },
          }
        : {
            ...common,
            type: 'identify',
            traits: { plan: PLANS[Math.floor(this.random() * PLANS.length)] },
          };
    return { profileId: `user:${userId}`, key: userId, messageId, body };
  }

  get count(): number {
    return this.sent;
  }
}
