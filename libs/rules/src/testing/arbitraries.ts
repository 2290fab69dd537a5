import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { Temporal } from '@js-temporal/polyfill';
import { RuleSchema, type Rule } from '@shoal/contracts';
import fc from 'fast-check';
import type { RuleLimits } from '../language/limits';
import type { RuleEvent } from '../incremental/state';

// fast-check arbitraries for rules, traits and event histories, shared by this library's
// property tests and by the membership service's. Rules are generated in their JSON form from a
// small vocabulary, so that generated events, traits and thresholds often meet (equal values,
// window edges, DST days) and the comparisons with the oracle are not vacuous.

/**
 * Zones with DST both ways, half- and quarter-hour offsets (Kolkata, Kathmandu, Adelaide with
 * DST), a 30-minute DST shift (Lord Howe), a transition at midnight (Santiago) and one that
 * repeats a time that is no hour boundary (Chatham: 03:45 back to 02:45).
 */
export const TIME_ZONES = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Adelaide',
  'Australia/Lord_Howe',
  'America/Santiago',
  'Pacific/Chatham',
] as const;

/**
 * Instants near which generated histories start: DST changes both ways in both hemispheres
 * (spring forward: New York, Berlin, Santiago, Chatham, Adelaide and Lord Howe; fall back:
 * Chatham, Adelaide, Lord Howe and Santiago in April, Berlin and New York in autumn), month and
 * year ends, leap day.
 */
export const INTERESTING_STARTS = [
  '2024-03-09T12:00:00Z',
  '2024-03-30T20:00:00Z',
  '2024-04-06T00:00:00Z',
  '2024-09-07T12:00:00Z',
  '2024-09-28T06:00:00Z',
  '2024-10-05T06:00:00Z',
  '2024-10-26T22:00:00Z',
  '2024-11-02T12:00:00Z',
  '2024-12-30T18:00:00Z',
  '2024-02-28T06:00:00Z',
  '2023-06-15T00:00:00Z',
].map((text) => Date.parse(text));

/** A change of a zone's offset from UTC. */
export interface ZoneTransition {
  readonly timeZone: string;
  readonly at: number;
}

/** Every offset change of TIME_ZONES in 2024 (found by Temporal, not by the code under test). */
export const TRANSITIONS_2024: readonly ZoneTransition[] = TIME_ZONES.flatMap((timeZone) => {
  const found: ZoneTransition[] = [];
  let at = Temporal.ZonedDateTime.from({ timeZone, year: 2024, month: 1, day: 1 });
  for (;;) {
    const next = at.getTimeZoneTransition('next');
    if (next === null || next.year > 2024) return found;
    found.push({ timeZone, at: next.epochMilliseconds });
    at = next;
  }
});

/** Small caps so that property tests reach them. */
export const TEST_LIMITS: Partial<RuleLimits> = { distinctValuesCap: 3, sequenceOccurrenceCap: 3 };

export const EVENT_NAMES = ['order', 'view', 'cart', 'open'] as const;
const CATEGORIES = ['winter', 'Winter', 'summer', 'a', 'B'];
const SKUS = ['x1', 'x2', 'x3', 'x4', 'x5'];
const SEGMENTS = ['s1', 's2'];
const LISTS = ['l1', 'l2'];
const TAGS = ['vip', 'churn'];

const DAY = 86_400_000;

const amount = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom(0.1, 0.2, 0.3, 19.99, 7.5, 1e16, -3),
);

/** ISO 8601 date-times near `base`: in UTC ("Z"), with an explicit offset, or with none (read in the rule's zone). */
function isoAround(base: number, spreadDays: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.integer({ min: -spreadDays * DAY, max: spreadDays * DAY }),
      fc.constantFrom(0, 330, -240, 765),
      fc.nat(5),
    )
    .map(([offset, zoneMinutes, style]) => {
      const instant = base + offset;
      if (style < 3) return new Date(instant).toISOString();
      const local = new Date(instant + zoneMinutes * 60_000).toISOString().slice(0, 19);
      if (style === 3) return local;
      const sign = zoneMinutes < 0 ? '-' : '+';
      const hours = String(Math.floor(Math.abs(zoneMinutes) / 60)).padStart(2, '0');
      const minutes = String(Math.abs(zoneMinutes) % 60).padStart(2, '0');
      return `${local}${sign}${hours}:${minutes}`;
    });
}

function dateOnlyAround(base: number, spreadDays: number): fc.Arbitrary<string> {
  return isoAround(base, spreadDays).map((text) => text.slice(0, 10));
}

/** Event properties from a small vocabulary (with arrays, nesting and dates). */
export function arbProperties(base: number): fc.Arbitrary<JsonObject> {
  return fc.record(
    {
      amount,
      category: fc.constantFrom(...CATEGORIES),
      sku: fc.oneof(fc.constantFrom(...SKUS), fc.constant(null)),
      when: fc.oneof(isoAround(base, 30), dateOnlyAround(base, 30)),
      products: fc.array(fc.record({ category: fc.constantFrom(...CATEGORIES), price: amount }), {
        maxLength: 3,
      }),
      labels: fc.array(fc.constantFrom('x', 'Y', 'z'), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<JsonObject>;
}

/** Profile traits from a small vocabulary, dates near `base`. */
export function arbTraits(base: number): fc.Arbitrary<JsonObject> {
  return fc.record(
    {
      plan: fc.constantFrom('pro', 'Pro', 'free', 'team'),
      age: fc.oneof(fc.integer({ min: 10, max: 60 }), fc.constant('30')),
      consent: fc.boolean(),
      signed_up_at: fc.oneof(
        isoAround(base, 120),
        fc.integer({ min: base - 120 * DAY, max: base + 10 * DAY }),
      ),
      birthday: dateOnlyAround(base, 400),
      renewal: fc.oneof(isoAround(base, 60), dateOnlyAround(base, 60)),
      interests: fc.array(fc.constantFrom('golf', 'Golf', 'tennis', 'sailing'), { maxLength: 3 }),
      address: fc.record(
        { city: fc.constantFrom('Berlin', 'berlin', 'Paris') },
        { requiredKeys: [] },
      ),
      active: fc.boolean(),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<JsonObject>;
}

// ---- rule JSON ------------------------------------------------------------------------------

const spanJson = (maxDays: number): fc.Arbitrary<JsonObject> =>
  fc.oneof(
    fc.record({ minutes: fc.integer({ min: 1, max: 180 }) }),
    fc.record({ hours: fc.integer({ min: 1, max: 72 }) }),
    fc.record({ days: fc.integer({ min: 1, max: maxDays }) }),
    fc.record({ weeks: fc.integer({ min: 1, max: Math.max(1, Math.floor(maxDays / 7)) }) }),
  );

function absoluteOperand(base: number): fc.Arbitrary<JsonObject> {
  return fc.oneof(
    fc
      .integer({ min: -60 * DAY, max: 60 * DAY })
      .map((offset) => ({ at: new Date(base + offset).toISOString() })),
    dateOnlyAround(base, 60).map((date) => ({ date })),
  );
}

function timeOperand(base: number): fc.Arbitrary<JsonObject> {
  return fc.oneof(
    absoluteOperand(base),
    fc
      .constantFrom(
        'minutesAgo',
        'hoursAgo',
        'daysAgo',
        'weeksAgo',
        'minutesFromNow',
        'hoursFromNow',
        'daysFromNow',
        'weeksFromNow',
      )
      .chain((unit) => fc.integer({ min: 0, max: 60 }).map((value) => ({ [unit]: value }))),
  );
}

const calendarJson = (minOffset: number, maxOffset: number): fc.Arbitrary<JsonObject> =>
  fc
    .tuple(
      fc.constantFrom('day', 'week', 'month', 'quarter', 'year'),
      fc.integer({ min: minOffset, max: maxOffset }),
    )
    .map(([unit, offset]) => ({ [unit]: unit === 'year' ? Math.max(offset, -1) : offset }));

/** Time operators; `timeless` keeps to those allowed in event filters. */
function timeOperator(base: number, timeless: boolean): fc.Arbitrary<JsonObject> {
  const operand = timeless ? absoluteOperand(base) : timeOperand(base);
  const always = [
    fc.record({ before: operand }),
    fc.record({ after: operand }),
    fc.record({ during: fc.record({ from: operand, to: operand }) }),
  ];
  if (timeless) return fc.oneof(...always);
  return fc.oneof(
    ...always,
    fc.record({ withinLast: spanJson(60) }),
    fc.record({ withinNext: spanJson(60) }),
    fc.record({ calendar: calendarJson(-2, 1) }),
    fc.record({ anniversary: fc.record({ withinNextDays: fc.integer({ min: 0, max: 40 }) }) }),
    fc.record({
      afterTrait: fc.record({
        path: fc.constantFrom('signed_up_at', 'renewal'),
        within: spanJson(60),
      }),
    }),
  );
}

function withFlags(
  operator: fc.Arbitrary<JsonObject>,
  path: fc.Arbitrary<string>,
  flags: { caseInsensitive: boolean; allElements: boolean },
): fc.Arbitrary<JsonObject> {
  return fc
    .tuple(
      path,
      operator,
      flags.caseInsensitive ? fc.boolean() : fc.constant(false),
      flags.allElements ? fc.boolean() : fc.constant(false),
    )
    .map(([fieldPath, op, ci, all]) => ({
      path: fieldPath,
      ...op,
      ...(ci ? { caseInsensitive: true } : {}),
      ...(all ? { allElements: true } : {}),
    }));
}

/** A trait condition over the arbTraits vocabulary. */
export function arbTraitCondition(base: number): fc.Arbitrary<JsonObject> {
  const strings = fc.constantFrom('plan', 'address.city', 'interests');
  const stringOperand = fc.constantFrom(
    'pro',
    'PRO',
    'free',
    'berlin',
    'Berlin',
    'golf',
    'g',
    'o',
    'Pro',
  );
  return fc.oneof(
    withFlags(
      fc.oneof(
        fc.record({ equals: stringOperand }),
        fc.record({ in: fc.array(stringOperand, { minLength: 1, maxLength: 3 }) }),
        fc.record({ contains: fc.constantFrom('o', 'R', 'er') }),
        fc.record({ startsWith: fc.constantFrom('p', 'B', 'go') }),
        fc.record({ endsWith: fc.constantFrom('o', 'in', 'lf') }),
        fc.record({ gt: stringOperand }),
        fc.record({ between: fc.record({ min: fc.constant('b'), max: fc.constant('q') }) }),
      ),
      strings,
      { caseInsensitive: true, allElements: true },
    ),
    withFlags(
      fc.oneof(
        fc.record({ notEquals: stringOperand }),
        fc.record({ notIn: fc.array(stringOperand, { minLength: 1, maxLength: 3 }) }),
        fc.record({ notContains: fc.constantFrom('o', 'R') }),
      ),
      strings,
      { caseInsensitive: true, allElements: false },
    ),
    withFlags(
      fc.oneof(
        fc.record({ gt: fc.integer({ min: 10, max: 60 }) }),
        fc.record({ gte: fc.integer({ min: 10, max: 60 }) }),
        fc.record({ lt: fc.integer({ min: 10, max: 60 }) }),
        fc.record({ lte: fc.integer({ min: 10, max: 60 }) }),
        fc.record({
          between: fc.record({
            min: fc.integer({ min: 10, max: 30 }),
            max: fc.integer({ min: 30, max: 60 }),
          }),
        }),
        fc.record({ equals: fc.oneof(fc.integer({ min: 28, max: 32 }), fc.constant('30')) }),
      ),
      fc.constant('age'),
      { caseInsensitive: false, allElements: false },
    ),
    withFlags(fc.record({ equals: fc.boolean() }), fc.constantFrom('consent', 'active'), {
      caseInsensitive: false,
      allElements: false,
    }),
    withFlags(
      fc.record({ exists: fc.boolean() }),
      fc.constantFrom('plan', 'address.city', 'interests', 'nope'),
      {
        caseInsensitive: false,
        allElements: false,
      },
    ),
    withFlags(timeOperator(base, false), fc.constantFrom('signed_up_at', 'birthday', 'renewal'), {
      caseInsensitive: false,
      allElements: false,
    }),
  );
}

/** A property filter (timeless operators only) over the arbProperties vocabulary. */
export function arbFilter(base: number): fc.Arbitrary<JsonObject> {
  return fc.oneof(
    withFlags(
      fc.oneof(
        fc.record({ equals: fc.constantFrom(...CATEGORIES) }),
        fc.record({ in: fc.array(fc.constantFrom(...CATEGORIES), { minLength: 1, maxLength: 2 }) }),
        fc.record({ notEquals: fc.constantFrom(...CATEGORIES) }),
        fc.record({ startsWith: fc.constantFrom('w', 'W', 's') }),
      ),
      fc.constantFrom('category', 'products.category', 'products.0.category', 'labels'),
      { caseInsensitive: true, allElements: false },
    ),
    withFlags(
      fc.oneof(
        fc.record({ gt: fc.integer({ min: 0, max: 40 }) }),
        fc.record({ lte: fc.integer({ min: 0, max: 40 }) }),
      ),
      fc.constantFrom('amount', 'products.price'),
      { caseInsensitive: false, allElements: true },
    ),
    withFlags(fc.record({ exists: fc.boolean() }), fc.constantFrom('sku', 'products'), {
      caseInsensitive: false,
      allElements: false,
    }),
    withFlags(timeOperator(base, true), fc.constant('when'), {
      caseInsensitive: false,
      allElements: false,
    }),
  );
}

/** Event windows of every kind (only sliding ones when `slidingOnly`), at most ~12 months back. */
export function arbWindow(base: number, slidingOnly = false): fc.Arbitrary<JsonObject | undefined> {
  const sliding = [
    fc.record({ lastMinutes: fc.integer({ min: 1, max: 120 }) }),
    fc.record({ lastHours: fc.integer({ min: 1, max: 48 }) }),
    fc.record({ lastDays: fc.integer({ min: 1, max: 45 }) }),
    fc.record({ lastWeeks: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ lastMonths: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ calendar: calendarJson(-2, 0) }),
  ];
  if (slidingOnly) return fc.oneof(...sliding);
  return fc.oneof(
    fc.constant(undefined),
    ...sliding,
    fc.tuple(absoluteOperand(base), fc.integer({ min: 1, max: 40 })).map(([from, days]) => {
      const start =
        'at' in from
          ? Date.parse(from['at'] as string)
          : Date.parse(`${from['date'] as string}T00:00:00Z`);
      return { between: { from, to: { at: new Date(start + days * DAY).toISOString() } } };
    }),
  );
}

function comparisonJson(min: number, max: number, integers = true): fc.Arbitrary<JsonObject> {
  const threshold = integers
    ? fc.integer({ min, max })
    : fc.oneof(fc.integer({ min, max }), fc.constantFrom(0.5, 7.5, 19.99, 0.6));
  return fc.oneof(
    ...['eq', 'ne', 'gt', 'gte', 'lt', 'lte'].map((operator) =>
      threshold.map((value) => ({ [operator]: value })),
    ),
    fc
      .tuple(threshold, threshold)
      .map(([a, b]) => ({ between: { min: Math.min(a, b), max: Math.max(a, b) } })),
  );
}

export function arbEventCondition(
  base: number,
  distinctCap: number,
  timeRelativeOnly = false,
): fc.Arbitrary<JsonObject> {
  const name = fc.constantFrom(...EVENT_NAMES);
  const where = fc.array(arbFilter(base), { maxLength: 2 });
  const property = fc.constantFrom('amount', 'products.price');
  const aggregate = fc.oneof(
    comparisonJson(0, 4).map((count) => ({ count })),
    ...['sum', 'avg', 'min', 'max'].map((measure) =>
      fc
        .tuple(property, comparisonJson(0, 60, false))
        .map(([prop, comparison]) => ({ [measure]: { property: prop, ...comparison } })),
    ),
    fc
      .tuple(fc.constantFrom('sku', 'category', 'labels'), comparisonJson(0, distinctCap))
      .map(([prop, comparison]) => ({ distinctCount: { property: prop, ...comparison } })),
  );
  const recency = fc
    .tuple(fc.constantFrom('firstSeen', 'lastSeen'), timeOperator(base, false))
    .map(([measure, test]) => ({ [measure]: test }));
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(name, where, aggregate, arbWindow(base, timeRelativeOnly))
        .map(([n, w, m, window]) => ({
          name: n,
          where: w,
          ...m,
          ...(window === undefined ? {} : { window }),
        })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(name, where, recency).map(([n, w, m]) => ({ name: n, where: w, ...m })),
    },
  );
}

export function arbSequenceCondition(
  base: number,
  timeRelativeOnly = false,
): fc.Arbitrary<JsonObject> {
  const step = fc.record({
    event: fc.constantFrom(...EVENT_NAMES),
    where: fc.array(arbFilter(base), { maxLength: 1 }),
  });
  const followUp = fc.record({
    event: fc.constantFrom(...EVENT_NAMES),
    where: fc.array(arbFilter(base), { maxLength: 1 }),
    within: spanJson(5),
  });
  return fc
    .tuple(
      fc.array(step, { minLength: 1, maxLength: 3 }),
      fc.option(spanJson(10), { nil: undefined }),
      fc.option(spanJson(20), { nil: undefined }),
      arbWindow(base, timeRelativeOnly),
      timeRelativeOnly
        ? fc.option(followUp, { nil: undefined, freq: 2 })
        : fc.option(followUp, { nil: undefined }),
    )
    .map(([steps, maxGap, within, window, notFollowedBy]) => {
      const allSteps =
        steps.length === 1 && notFollowedBy === undefined ? [...steps, ...steps] : steps;
      return {
        steps: allSteps,
        ...(maxGap === undefined ? {} : { maxGap }),
        ...(within === undefined ? {} : { within }),
        ...(window === undefined ? {} : { window }),
        ...(notFollowedBy === undefined ? {} : { notFollowedBy }),
      };
    });
}

export interface ConditionOptions {
  readonly base: number;
  readonly depth: number;
  readonly distinctCap: number;
  /** Account rules: allow `contacts` at this level. */
  readonly accounts?: boolean;
  /** Only leaves whose value moves with time (for next-change properties). */
  readonly timeRelativeOnly?: boolean;
}

/** A condition tree (JSON) of at most `depth` group levels. */
export function arbCondition(options: ConditionOptions): fc.Arbitrary<JsonObject> {
  const { base, depth, distinctCap, accounts = false, timeRelativeOnly = false } = options;
  const traitLeaf = timeRelativeOnly
    ? withFlags(timeOperator(base, false), fc.constantFrom('signed_up_at', 'birthday', 'renewal'), {
        caseInsensitive: false,
        allElements: false,
      })
    : arbTraitCondition(base);
  const leaves: fc.WeightedArbitrary<JsonObject>[] = [
    { weight: 3, arbitrary: traitLeaf.map((trait) => ({ trait })) },
    {
      weight: 5,
      arbitrary: arbEventCondition(base, distinctCap, timeRelativeOnly).map((event) => ({ event })),
    },
    {
      weight: 2,
      arbitrary: arbSequenceCondition(base, timeRelativeOnly).map((sequence) => ({ sequence })),
    },
  ];
  if (!timeRelativeOnly)
    leaves.push({
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(...SEGMENTS).map((id) => ({ inSegment: id })),
        fc.constantFrom(...SEGMENTS).map((id) => ({ notInSegment: id })),
        fc.constantFrom(...LISTS).map((id) => ({ inList: id })),
        fc.constantFrom(...LISTS).map((id) => ({ notInList: id })),
        fc.constantFrom(...TAGS).map((tag) => ({ hasTag: tag })),
        fc.constantFrom(...TAGS).map((tag) => ({ lacksTag: tag })),
      ),
    });
  if (accounts) {
    leaves.push({
      weight: 3,
      arbitrary: fc
        .tuple(
          arbCondition({ base, depth: Math.min(depth, 1), distinctCap, timeRelativeOnly }),
          comparisonJson(0, 3),
        )
        .map(([where, count]) => ({ contacts: { where, count } })),
    });
  }
  const leaf = fc.oneof(...leaves);
  if (depth <= 0) return leaf;
  const child = arbCondition({ ...options, depth: depth - 1 });
  const group = fc
    .tuple(fc.constantFrom('all', 'any', 'none'), fc.array(child, { minLength: 1, maxLength: 3 }))
    .map(([kind, conditions]) => ({ [kind]: { conditions } }));
  return fc.oneof({ weight: 2, arbitrary: leaf }, { weight: 1, arbitrary: group });
}

/** A rule's JSON form: a condition tree, a zone and (optionally) the accounts audience. */
export function arbRuleJson(
  options: Omit<ConditionOptions, 'base'> & { base?: number },
): fc.Arbitrary<JsonObject> {
  const base = options.base ?? (INTERESTING_STARTS[0] as number);
  return fc
    .tuple(arbCondition({ ...options, base }), fc.constantFrom(...TIME_ZONES))
    .map(([condition, timeZone]) => ({
      condition,
      timeZone,
      ...(options.accounts === true ? { audience: 'AUDIENCE_ACCOUNTS' } : {}),
    }));
}

export function ruleFromJson(json: JsonValue): Rule {
  return fromJson(RuleSchema, json);
}

/** Event names of journey rules: few, so that sequences and follow-ups often complete. */
export const JOURNEY_EVENTS = ['cart', 'order'] as const;

/**
 * Journeys: sequences (with gaps, spans, windows and follow-ups), first/last occurrences and
 * never-did conditions over two event names, in small groups. Dense in matches, for the
 * sequence, abandonment and first-time properties.
 */
export function arbJourneyCondition(base: number): fc.Arbitrary<JsonObject> {
  const name = fc.constantFrom(...JOURNEY_EVENTS);
  const step = fc.record({ event: name });
  const sequence = fc
    .tuple(
      fc.array(step, { minLength: 1, maxLength: 3 }),
      fc.option(spanJson(3), { nil: undefined }),
      fc.option(spanJson(6), { nil: undefined }),
      fc.option(arbWindow(base, true), { nil: undefined }),
      fc.option(fc.record({ event: name, within: spanJson(3) }), { nil: undefined, freq: 2 }),
    )
    .map(([steps, maxGap, within, window, notFollowedBy]) => ({
      sequence: {
        steps: steps.length === 1 && notFollowedBy === undefined ? [...steps, ...steps] : steps,
        ...(maxGap === undefined ? {} : { maxGap }),
        ...(within === undefined ? {} : { within }),
        ...(window === undefined ? {} : { window }),
        ...(notFollowedBy === undefined ? {} : { notFollowedBy }),
      },
    }));
  const recency = fc
    .tuple(name, fc.constantFrom('firstSeen', 'lastSeen'), timeOperator(base, false))
    .map(([event, measure, test]) => ({ event: { name: event, [measure]: test } }));
  const never = fc
    .tuple(name, fc.option(arbWindow(base, true), { nil: undefined }))
    .map(([event, window]) => ({
      event: { name: event, count: { eq: 0 }, ...(window === undefined ? {} : { window }) },
    }));
  const leaf = fc.oneof(
    { weight: 4, arbitrary: sequence },
    { weight: 3, arbitrary: recency },
    { weight: 1, arbitrary: never },
  );
  const group = fc
    .tuple(fc.constantFrom('all', 'any', 'none'), fc.array(leaf, { minLength: 1, maxLength: 3 }))
    .map(([kind, conditions]) => ({ [kind]: { conditions } }));
  return fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: group });
}

/** An event with the instant it arrived at (its timestamp may be earlier: a late event). */
export interface Arrival {
  readonly arrivedAt: number;
  readonly event: RuleEvent;
}

/**
 * Events arriving over time with jumps from seconds to months; most are on time, some late by
 * up to two months, a few stamped up to two hours in the future (clock skew).
 */
export function arbArrivals(
  base: number,
  options: { minLength?: number; maxLength?: number; names?: readonly string[] } = {},
): fc.Arbitrary<Arrival[]> {
  const jump = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 90_000 }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 * 3_600_000 }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 * DAY }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 * DAY }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 * DAY }) },
  );
  const skew = fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: -3 * DAY, max: 0 }) },
    { weight: 1, arbitrary: fc.integer({ min: -60 * DAY, max: 0 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * 3_600_000 }) },
  );
  const item = fc.record({
    jump,
    skew,
    name: fc.constantFrom(...(options.names ?? EVENT_NAMES)),
    properties: arbProperties(base),
  });
  return fc
    .array(item, { minLength: options.minLength ?? 0, maxLength: options.maxLength ?? 25 })
    .map((items) => {
      let clock = base;
      return items.map(({ jump: step, skew: offset, name, properties }) => {
        clock += step;
        return { arrivedAt: clock, event: { name, timestamp: clock + offset, properties } };
      });
    });
}

/** Facts of a subject besides its events. */
export interface SubjectFacts {
  readonly traits: JsonObject;
  readonly tags: string[];
  readonly lists: string[];
  readonly segments: Record<string, number>;
}

export function arbFacts(base: number): fc.Arbitrary<SubjectFacts> {
  return fc.record({
    traits: arbTraits(base),
    tags: fc.subarray([...TAGS]),
    lists: fc.subarray([...LISTS]),
    segments: fc
      .subarray([...SEGMENTS])
      .map(
        (ids) => Object.fromEntries(ids.map((id) => [id, base - DAY])) as Record<string, number>,
      ),
  });
}

/** How many runs a property gets: a positive integer in `override` (e.g. env FC_RUNS) wins over the default. */
export function propertyRuns(defaultRuns: number, override: string | undefined): number {
  const runs = Number(override);
  return Number.isInteger(runs) && runs > 0 ? runs : defaultRuns;
}
