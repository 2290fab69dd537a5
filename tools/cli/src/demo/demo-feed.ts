/**
 * A synthetic but plausible customer feed in Segment-spec JSON, as an online shop's tracking
 * would send it: customers who buy, browse, read and open emails. Deterministic for a seed and
 * a clock, so the demo can be tested.
 */

/** One upstream message (Segment spec), keyed by its user id as upstream systems key them. */
export interface UpstreamMessage {
  readonly key: string;
  readonly value: Record<string, unknown>;
}

/** What a customer tends to do, which decides the segments they drift into and out of. */
export type Persona = 'loyal' | 'winter' | 'reader' | 'browser';

export interface DemoCustomer {
  readonly userId: string;
  readonly persona: Persona;
  readonly vip: boolean;
}

const DAY = 86_400_000;
const FIRST_NAMES = ['Ann', 'Bob', 'Cleo', 'Dev', 'Eva', 'Finn', 'Gus', 'Hana', 'Ivo', 'Jun'];
const PERSONAS: readonly Persona[] = ['loyal', 'winter', 'reader', 'browser'];
const CATEGORIES = ['shoes', 'outdoor', 'home', 'accessories'];

/** A small seeded generator (mulberry32): the same seed gives the same feed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `size` customers, personas in turn, every tenth a VIP. */
export function demoCustomers(size: number, prefix = 'demo'): DemoCustomer[] {
  return Array.from({ length: size }, (_, i) => ({
    userId: `${prefix}-${String(i + 1).padStart(4, '0')}`,
    persona: PERSONAS[i % PERSONAS.length],
    vip: i % 10 === 0,
  }));
}

/** The profile id ingestion gives a customer known by user id. */
export function profileIdOf(customer: DemoCustomer): string {
  return `user:${customer.userId}`;
}

export class DemoFeed {
  private readonly random: () => number;
  private sequence = 0;

  constructor(
    private readonly customers: readonly DemoCustomer[],
    private readonly runId: string,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /**
   * Each customer's past: who they are, and what they did in the months (and the last calendar
   * year) before `now`. Loyal customers bought several times but stopped visiting 40+ days ago;
   * winter buyers bought winter apparel last year and opened no email since; readers read about
   * retirement once or twice.
   */
  history(now: Date): UpstreamMessage[] {
    const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);
    return this.customers.flatMap((customer, i) => {
      const messages = [
        this.message(customer, at(200), {
          type: 'identify',
          traits: {
            name: `${FIRST_NAMES[i % FIRST_NAMES.length]} ${customer.userId.slice(-4)}`,
            marketing_consent: customer.persona !== 'browser' || this.random() < 0.5,
            vip: customer.vip,
          },
        }),
      ];
      switch (customer.persona) {
        case 'loyal':
          for (let order = 0; order < 2 + Math.floor(this.random() * 3); order += 1) {
            messages.push(this.order(customer, at(60 + order * 20), 300 + this.random() * 300));
          }
          messages.push(this.track(customer, at(45 + this.random() * 30), 'Page Viewed', {}));
          break;
        case 'winter': {
          const lastYear = new Date(Date.UTC(now.getUTCFullYear() - 1, 11, 5 + (i % 20), 12));
          messages.push(this.order(customer, lastYear, 120, 'Winter Apparel'));
          break;
        }
        case 'reader':
          for (let view = 0; view < 1 + (Math.floor(i / 4) % 2); view += 1) {
            messages.push(this.contentView(customer, at(10 + view * 5)));
          }
          break;
        case 'browser':
          messages.push(this.track(customer, at(3), 'Page Viewed', {}));
          break;
      }
      return messages;
    });
  }

  /**
   * What happens in the next moment: a handful of customers act now. Lapsed customers come
   * back (and so leave "loyal but lapsed"), winter buyers open an email, readers read again
   * (and so reach three views), everyone browses and some buy.
   */
  tick(now: Date, events: number): UpstreamMessage[] {
    return Array.from({ length: events }, () => {
      const customer = this.customers[Math.floor(this.random() * this.customers.length)];
      const roll = this.random();
      switch (customer.persona) {
        case 'loyal':
          return roll < 0.3
            ? this.track(customer, now, 'Page Viewed', { path: '/new-arrivals' })
            : this.order(customer, now, 80 + roll * 200);
        case 'winter':
          return roll < 0.4
            ? this.track(customer, now, 'Email Opened', { campaign: 'winter-sale' })
            : this.track(customer, now, 'Page Viewed', { path: '/winter' });
        case 'reader':
          return this.contentView(customer, now);
        case 'browser':
          return roll < 0.2
            ? this.order(customer, now, 40 + roll * 100)
            : this.track(customer, now, 'Page Viewed', { path: '/' });
      }
    });
  }

  private order(customer: DemoCustomer, at: Date, total: number, category?: string) {
    const chosen = category ?? CATEGORIES[Math.floor(this.random() * CATEGORIES.length)];
    return this.track(customer, at, 'Order Completed', {
      total: Math.round(total * 100) / 100,
      currency: 'EUR',
      products: [{ category: chosen, price: Math.round(total * 100) / 100 }],
    });
  }

  private contentView(customer: DemoCustomer, at: Date) {
    return this.track(customer, at, 'Content Viewed', {
      topic: 'retirement-planning',
      title: 'How much do I need to retire?',
    });
  }

  private track(
    customer: DemoCustomer,
    at: Date,
    event: string,
    properties: Record<string, unknown>,
  ): UpstreamMessage {
    return this.message(customer, at, { type: 'track', event, properties });
  }

  private message(
    customer: DemoCustomer,
    at: Date,
    body: Record<string, unknown>,
  ): UpstreamMessage {
    this.sequence += 1;
    return {
      key: customer.userId,
      value: {
        ...body,
        messageId: `${this.runId}-${this.sequence}`,
        userId: customer.userId,
        timestamp: at.toISOString(),
      },
    };
  }
}
