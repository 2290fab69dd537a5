import type { JsonObject } from '@bufbuild/protobuf';

export interface ProductExample {
  readonly description: string;
  readonly json: JsonObject;
}

export type ProductExampleName =
  | 'loyalButLapsed'
  | 'winterBuyersNotOpening'
  | 'retirementReaders'
  | 'cartAbandoners'
  | 'newBuyers'
  | 'trialActivation';

/** The product documents' example segments in the rule JSON form (docs/rules.md shows the same JSON). */
export const PRODUCT_EXAMPLES: Readonly<Record<ProductExampleName, ProductExample>> = {
  loyalButLapsed: {
    description:
      'made more than one purchase, has not visited in 40 days (or never has), total order value > 800, marketing consent given',
    json: {
      condition: {
        all: {
          conditions: [
            { event: { name: 'Order Completed', count: { gt: 1 } } },
            {
              any: {
                conditions: [
                  { event: { name: 'Page Viewed', lastSeen: { before: { daysAgo: 40 } } } },
                  { event: { name: 'Page Viewed', count: { eq: 0 } } },
                ],
              },
            },
            { event: { name: 'Order Completed', sum: { property: 'total', gt: 800 } } },
            { trait: { path: 'marketing_consent', equals: true } },
          ],
        },
      },
    },
  },
  winterBuyersNotOpening: {
    description:
      'bought a winter-apparel product last calendar year and opened no email in the last 90 days',
    json: {
      timeZone: 'Europe/Berlin',
      condition: {
        all: {
          conditions: [
            {
              event: {
                name: 'Order Completed',
                where: [
                  { path: 'products.category', equals: 'winter apparel', caseInsensitive: true },
                ],
                count: { gte: 1 },
                window: { calendar: { year: -1 } },
              },
            },
            { event: { name: 'Email Opened', count: { eq: 0 }, window: { lastDays: 90 } } },
          ],
        },
      },
    },
  },
  retirementReaders: {
    description: 'viewed retirement-planning content at least 3 times',
    json: {
      condition: {
        event: {
          name: 'Content Viewed',
          where: [{ path: 'topic', equals: 'retirement-planning' }],
          count: { gte: 3 },
        },
      },
    },
  },
  cartAbandoners: {
    description: 'added to cart and no order within 2 days (in the last 30 days)',
    json: {
      condition: {
        sequence: {
          steps: [{ event: 'Product Added' }],
          notFollowedBy: { event: 'Order Completed', within: { days: 2 } },
          window: { lastDays: 30 },
        },
      },
    },
  },
  newBuyers: {
    description: 'new buyers: first purchase in the last 7 days',
    json: {
      condition: { event: { name: 'Order Completed', firstSeen: { withinLast: { days: 7 } } } },
    },
  },
  trialActivation: {
    description: 'viewed pricing, then started a trial, then invited a teammate, within 14 days',
    json: {
      condition: {
        sequence: {
          steps: [
            { event: 'Pricing Viewed' },
            { event: 'Trial Started' },
            { event: 'Teammate Invited' },
          ],
          within: { days: 14 },
        },
      },
    },
  },
};
