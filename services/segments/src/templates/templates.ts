import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { TemplateParameterType } from '@shoal/contracts';
import type { RuleLimits } from '@shoal/rules';

/** A bound of a number: fixed, or one of the rule limits the parameter ends up in. */
export type Bound = number | 'maxHistoryDays' | 'maxRelativeDays';

export interface TemplateParameterSpec {
  readonly name: string;
  readonly description: string;
  readonly type: TemplateParameterType;
  /** For numbers and integers: the smallest and largest value the rule can take. */
  readonly minimum?: Bound;
  readonly maximum?: Bound;
  /** Absent: the parameter is required. */
  readonly defaultValue?: JsonValue;
  /** For required parameters: the value the template's example uses. */
  readonly exampleValue?: JsonValue;
}

export interface TemplateSpec {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly parameters: readonly TemplateParameterSpec[];
  /** The rule's JSON form for complete, type-checked parameters. */
  build(p: Readonly<Record<string, JsonValue>>): JsonObject;
}

const { INTEGER, NUMBER, STRING } = TemplateParameterType;

/** A count threshold: at least one, and far below where doubles lose whole numbers. */
const COUNT = { minimum: 1, maximum: 2 ** 31 - 1 } as const;
/** Days back in a window or a span: the retained history bounds them. */
const HISTORY_DAYS = { minimum: 1, maximum: 'maxHistoryDays' } as const;
/** Days of a relative time operand (e.g. "last seen more than N days ago"). */
const RELATIVE_DAYS = { minimum: 1, maximum: 'maxRelativeDays' } as const;

export function resolveBound(bound: Bound, limits: RuleLimits): number {
  return typeof bound === 'number' ? bound : limits[bound];
}

/** Rule JSON with parameter values in it; RuleSchema checks its shape when it is parsed. */
const ruleJson = (json: Record<string, unknown>) => json as JsonObject;

/** The product's examples as named, parameterised templates. */
export const TEMPLATES: readonly TemplateSpec[] = [
  {
    id: 'repeat-purchasers-inactive',
    name: 'Repeat purchasers gone quiet',
    description:
      'Bought more than once, spent over a total, gave marketing consent, and has not visited for a while.',
    parameters: [
      {
        name: 'min_orders',
        description: 'at least this many orders',
        type: INTEGER,
        ...COUNT,
        defaultValue: 2,
      },
      {
        name: 'inactive_days',
        description: 'no visit for more than this many days',
        type: INTEGER,
        ...RELATIVE_DAYS,
        defaultValue: 40,
      },
      {
        name: 'min_total',
        description: 'total order value above this',
        type: NUMBER,
        defaultValue: 800,
      },
      {
        name: 'order_event',
        description: 'the purchase event',
        type: STRING,
        defaultValue: 'Order Completed',
      },
      {
        name: 'total_property',
        description: 'the order value property',
        type: STRING,
        defaultValue: 'total',
      },
      {
        name: 'visit_event',
        description: 'the visit event',
        type: STRING,
        defaultValue: 'Page Viewed',
      },
      {
        name: 'consent_trait',
        description: 'the boolean consent trait',
        type: STRING,
        defaultValue: 'marketing_consent',
      },
    ],
    build: (p) =>
      ruleJson({
        condition: {
          all: {
            conditions: [
              { event: { name: p.order_event, count: { gte: p.min_orders } } },
              {
                any: {
                  conditions: [
                    {
                      event: {
                        name: p.visit_event,
                        lastSeen: { before: { daysAgo: p.inactive_days } },
                      },
                    },
                    { event: { name: p.visit_event, count: { eq: 0 } } },
                  ],
                },
              },
              {
                event: {
                  name: p.order_event,
                  sum: { property: p.total_property, gt: p.min_total },
                },
              },
              { trait: { path: p.consent_trait, equals: true } },
            ],
          },
        },
      }),
  },
  {
    id: 'category-buyers-no-email-opens',
    name: 'Last year’s category buyers not opening email',
    description: 'Bought a product of a category last calendar year and opened no email recently.',
    parameters: [
      {
        name: 'category',
        description: 'the product category (case-insensitive)',
        type: STRING,
        exampleValue: 'winter apparel',
      },
      {
        name: 'no_email_days',
        description: 'no email opened in this many days',
        type: INTEGER,
        ...HISTORY_DAYS,
        defaultValue: 90,
      },
      {
        name: 'time_zone',
        description: 'IANA time zone of the calendar year',
        type: STRING,
        defaultValue: 'UTC',
      },
      {
        name: 'order_event',
        description: 'the purchase event',
        type: STRING,
        defaultValue: 'Order Completed',
      },
      {
        name: 'category_property',
        description: 'the order property holding the category',
        type: STRING,
        defaultValue: 'products.category',
      },
      {
        name: 'email_event',
        description: 'the email-open event',
        type: STRING,
        defaultValue: 'Email Opened',
      },
    ],
    build: (p) =>
      ruleJson({
        timeZone: p.time_zone,
        condition: {
          all: {
            conditions: [
              {
                event: {
                  name: p.order_event,
                  where: [{ path: p.category_property, equals: p.category, caseInsensitive: true }],
                  count: { gte: 1 },
                  window: { calendar: { year: -1 } },
                },
              },
              {
                event: {
                  name: p.email_event,
                  count: { eq: 0 },
                  window: { lastDays: p.no_email_days },
                },
              },
            ],
          },
        },
      }),
  },
  {
    id: 'content-readers',
    name: 'Readers of a topic',
    description: 'Viewed content on a topic at least a number of times.',
    parameters: [
      {
        name: 'topic',
        description: 'the content topic',
        type: STRING,
        exampleValue: 'retirement-planning',
      },
      {
        name: 'min_views',
        description: 'at least this many views',
        type: INTEGER,
        ...COUNT,
        defaultValue: 3,
      },
      {
        name: 'content_event',
        description: 'the content view event',
        type: STRING,
        defaultValue: 'Content Viewed',
      },
      {
        name: 'topic_property',
        description: 'the event property holding the topic',
        type: STRING,
        defaultValue: 'topic',
      },
    ],
    build: (p) =>
      ruleJson({
        condition: {
          event: {
            name: p.content_event,
            where: [{ path: p.topic_property, equals: p.topic }],
            count: { gte: p.min_views },
          },
        },
      }),
  },
  {
    id: 'cart-abandoners',
    name: 'Cart abandoners',
    description: 'Added a product to the cart and placed no order within a number of days.',
    parameters: [
      {
        name: 'within_days',
        description: 'no order within this many days of the cart add',
        type: INTEGER,
        ...HISTORY_DAYS,
        defaultValue: 2,
      },
      {
        name: 'lookback_days',
        description: 'cart adds of the last this many days count',
        type: INTEGER,
        ...HISTORY_DAYS,
        defaultValue: 30,
      },
      {
        name: 'cart_event',
        description: 'the add-to-cart event',
        type: STRING,
        defaultValue: 'Product Added',
      },
      {
        name: 'order_event',
        description: 'the purchase event',
        type: STRING,
        defaultValue: 'Order Completed',
      },
    ],
    build: (p) =>
      ruleJson({
        condition: {
          sequence: {
            steps: [{ event: p.cart_event }],
            notFollowedBy: { event: p.order_event, within: { days: p.within_days } },
            window: { lastDays: p.lookback_days },
          },
        },
      }),
  },
];
