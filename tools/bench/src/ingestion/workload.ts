import type { Message } from 'kafkajs';

/** A small seeded generator (mulberry32), so every run sends the same records. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface Workload {
  readonly records: Message[];
  /** Records of each kind, for the report. */
  readonly mix: Record<string, number>;
}

const PRODUCTS = ['shoes', 'jacket', 'scarf', 'boots', 'gloves', 'hat'];
const PLANS = ['free', 'pro', 'team', 'enterprise'];

/** How people's records are spread over the stream. */
export type Spread = 'sessions' | 'uniform';

/**
 * `records` Segment-spec JSON records from `profiles` people, in the order a site would send
 * them: each person browses anonymously (page views, tracks), is identified once (user id,
 * anonymous id and traits with an email: a merge), then acts as a known user (tracks with
 * properties, now and then an identify changing a trait, a group call for one in five). Each
 * person's own records keep their order, keyed by the user id once known (else the anonymous
 * id), as Segment's libraries do. With `sessions`, a person's records fall within a stretch of
 * about a twentieth of the stream (people visit, act, leave); with `uniform`, every person's
 * records are spread over the whole stream (the worst case for coalescing writes).
 */
export function generateWorkload(
  records: number,
  profiles: number,
  spread: Spread = 'sessions',
  seed = 20_261_201,
): Workload {
  const next = random(seed);
  const perPerson = Math.max(2, Math.round(records / profiles));
  const start = Date.parse('2026-11-01T00:00:00Z');
  const mix: Record<string, number> = {};
  const queues: Message[][] = [];
  for (let p = 0; p < profiles; p++) {
    const anonymousId = `anon-${p}-${Math.floor(next() * 1e9).toString(36)}`;
    const userId = `user-${p}`;
    const identifyAt = 1 + Math.floor(next() * Math.min(4, perPerson - 1));
    const queue: Message[] = [];
    for (let n = 0; n < perPerson; n++) {
      const timestamp = new Date(start + p * 1_000 + n * 60_000).toISOString();
      const messageId = `m-${p}-${n}`;
      let event: Record<string, unknown>;
      let key = userId;
      if (n < identifyAt) {
        key = anonymousId;
        event =
          n % 2 === 0
            ? {
                type: 'page',
                anonymousId,
                name: 'Product',
                properties: { path: `/p/${PRODUCTS[n % PRODUCTS.length]}` },
              }
            : {
                type: 'track',
                anonymousId,
                event: 'Product Viewed',
                properties: { product: PRODUCTS[Math.floor(next() * PRODUCTS.length)] },
              };
      } else if (n === identifyAt) {
        event = {
          type: 'identify',
          userId,
          anonymousId,
          traits: {
            email: `${userId}@example.com`,
            name: `Person ${p}`,
            plan: PLANS[Math.floor(next() * PLANS.length)],
          },
        };
      } else if (n === identifyAt + 1 && p % 5 === 0) {
        event = { type: 'group', userId, groupId: `account-${p % 97}`, traits: { seats: p % 50 } };
      } else if (next() < 0.08) {
        event = {
          type: 'identify',
          userId,
          traits: { plan: PLANS[Math.floor(next() * PLANS.length)], visits: n },
        };
      } else {
        event = {
          type: 'track',
          userId,
          event: next() < 0.2 ? 'Order Completed' : 'Product Viewed',
          properties: {
            product: PRODUCTS[Math.floor(next() * PRODUCTS.length)],
            price: Math.round(next() * 20_000) / 100,
          },
        };
      }
      mix[String(event.type)] = (mix[String(event.type)] ?? 0) + 1;
      queue.push({ key, value: JSON.stringify({ ...event, messageId, timestamp }) });
    }
    queues.push(queue);
  }
  // each record gets a place in the stream; a person's places increase, so their order holds
  const window = spread === 'sessions' ? Math.max(perPerson, Math.round(records / 20)) : records;
  const placed: { at: number; message: Message }[] = [];
  for (const queue of queues) {
    const start = spread === 'sessions' ? next() * (records - window) : 0;
    const places = queue.map(() => start + next() * window).sort((a, b) => a - b);
    queue.forEach((message, n) => placed.push({ at: places[n] as number, message }));
  }
  placed.sort((a, b) => a.at - b.at);
  return { records: placed.slice(0, records).map((p) => p.message), mix };
}
