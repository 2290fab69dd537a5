import type { JsonObject } from '@bufbuild/protobuf';
import { compile } from './compile';
import { emptyState } from '../incremental/state';
import { ruleFromJson } from '../testing/arbitraries';

const NOW = Date.parse('2024-06-15T12:00:00Z');
const DAY = 86_400_000;

function traitHolds(
  trait: JsonObject,
  traits: JsonObject,
  options: { now?: number; timeZone?: string } = {},
): boolean {
  const rule = ruleFromJson({ timeZone: options.timeZone ?? 'UTC', condition: { trait } });
  return compile({ rule })(emptyState({ traits }), options.now ?? NOW);
}

describe('trait operators on strings', () => {
  it.each<[string, JsonObject, JsonObject, boolean]>([
    ['equals matches the same string', { path: 'plan', equals: 'pro' }, { plan: 'pro' }, true],
    [
      'equals is case-sensitive by default',
      { path: 'plan', equals: 'pro' },
      { plan: 'Pro' },
      false,
    ],
    [
      'equals ignores case when asked',
      { path: 'plan', equals: 'pro', caseInsensitive: true },
      { plan: 'PRO' },
      true,
    ],
    ['equals never matches another type', { path: 'age', equals: '30' }, { age: 30 }, false],
    [
      'notEquals holds for another value',
      { path: 'plan', notEquals: 'pro' },
      { plan: 'free' },
      true,
    ],
    ['notEquals holds when the trait is missing', { path: 'plan', notEquals: 'pro' }, {}, true],
    [
      'notEquals honours case-insensitivity',
      { path: 'plan', notEquals: 'pro', caseInsensitive: true },
      { plan: 'PRO' },
      false,
    ],
    ['in matches one of the values', { path: 'plan', in: ['pro', 'team'] }, { plan: 'team' }, true],
    ['in fails for other values', { path: 'plan', in: ['pro', 'team'] }, { plan: 'free' }, false],
    [
      'notIn holds for other values',
      { path: 'plan', notIn: ['pro', 'team'] },
      { plan: 'free' },
      true,
    ],
    ['notIn holds when missing', { path: 'plan', notIn: ['pro'] }, {}, true],
    [
      'contains finds a substring',
      { path: 'email', contains: '@acme' },
      { email: 'ann@acme.com' },
      true,
    ],
    [
      'contains is case-sensitive by default',
      { path: 'email', contains: '@ACME' },
      { email: 'ann@acme.com' },
      false,
    ],
    [
      'contains ignores case when asked',
      { path: 'email', contains: '@ACME', caseInsensitive: true },
      { email: 'ann@acme.com' },
      true,
    ],
    [
      'notContains holds without the substring',
      { path: 'email', notContains: 'spam' },
      { email: 'ann@acme.com' },
      true,
    ],
    ['startsWith checks the prefix', { path: 'city', startsWith: 'Ber' }, { city: 'Berlin' }, true],
    [
      'startsWith fails on other prefixes',
      { path: 'city', startsWith: 'ber' },
      { city: 'Berlin' },
      false,
    ],
    ['endsWith checks the suffix', { path: 'city', endsWith: 'lin' }, { city: 'Berlin' }, true],
    ['gt orders strings by code units', { path: 'code', gt: 'b' }, { code: 'c' }, true],
    ['lte orders strings', { path: 'code', lte: 'b' }, { code: 'c' }, false],
    [
      'between works on strings',
      { path: 'code', between: { min: 'b', max: 'd' } },
      { code: 'c' },
      true,
    ],
    ['string operators fail on numbers', { path: 'code', contains: '1' }, { code: 1 }, false],
  ])('%s', (_name, trait, traits, expected) => {
    expect(traitHolds(trait, traits)).toBe(expected);
  });
});

describe('trait operators on numbers and booleans', () => {
  it.each<[string, JsonObject, JsonObject, boolean]>([
    ['equals compares numbers', { path: 'age', equals: 30 }, { age: 30 }, true],
    ['gt', { path: 'age', gt: 30 }, { age: 31 }, true],
    ['gt is strict', { path: 'age', gt: 30 }, { age: 30 }, false],
    ['gte', { path: 'age', gte: 30 }, { age: 30 }, true],
    ['lt', { path: 'age', lt: 30 }, { age: 29.5 }, true],
    ['lte', { path: 'age', lte: 30 }, { age: 30.5 }, false],
    [
      'between includes both ends',
      { path: 'age', between: { min: 18, max: 30 } },
      { age: 18 },
      true,
    ],
    [
      'between excludes outside values',
      { path: 'age', between: { min: 18, max: 30 } },
      { age: 31 },
      false,
    ],
    ['numeric operators never read numeric strings', { path: 'age', gt: 3 }, { age: '30' }, false],
    ['equals compares booleans', { path: 'consent', equals: true }, { consent: true }, true],
    ['a boolean is not a string', { path: 'consent', equals: 'true' }, { consent: true }, false],
  ])('%s', (_name, trait, traits, expected) => {
    expect(traitHolds(trait, traits)).toBe(expected);
  });
});

describe('existence and paths', () => {
  it.each<[string, JsonObject, JsonObject, boolean]>([
    ['exists holds for a present value', { path: 'email', exists: true }, { email: 'a@b.c' }, true],
    ['exists fails for null', { path: 'email', exists: true }, { email: null }, false],
    ['exists: false holds when missing', { path: 'email', exists: false }, {}, true],
    ['an empty array exists', { path: 'tags', exists: true }, { tags: [] }, true],
    [
      'dotted paths reach nested objects',
      { path: 'address.city', equals: 'Paris' },
      { address: { city: 'Paris' } },
      true,
    ],
    [
      'a dotted key is not a nested path',
      { path: 'address.city', equals: 'Paris' },
      { 'address.city': 'Paris' },
      false,
    ],
    [
      'paths cross arrays of objects',
      { path: 'orders.sku', equals: 'x2' },
      { orders: [{ sku: 'x1' }, { sku: 'x2' }] },
      true,
    ],
    [
      'numeric segments index arrays',
      { path: 'orders.1.sku', equals: 'x1' },
      { orders: [{ sku: 'x1' }, { sku: 'x2' }] },
      false,
    ],
    [
      'a path crossing arrays that finds nothing is missing',
      { path: 'orders.total', exists: true },
      { orders: [{ sku: 'x1' }] },
      false,
    ],
  ])('%s', (_name, trait, traits, expected) => {
    expect(traitHolds(trait, traits)).toBe(expected);
  });
});

describe('array traits', () => {
  const traits = { interests: ['golf', 'Tennis'] };
  it.each<[string, JsonObject, JsonObject, boolean]>([
    [
      'a positive operator holds when any element matches',
      { path: 'interests', equals: 'golf' },
      traits,
      true,
    ],
    [
      'allElements needs every element to match',
      { path: 'interests', startsWith: 'g', allElements: true },
      traits,
      false,
    ],
    [
      'allElements holds when every element matches',
      { path: 'interests', contains: 'l', allElements: true, caseInsensitive: true },
      { interests: ['golf', 'Sailing'] },
      true,
    ],
    [
      'allElements never holds for an empty array',
      { path: 'interests', contains: 'l', allElements: true },
      { interests: [] },
      false,
    ],
    [
      'notEquals holds when no element equals',
      { path: 'interests', notEquals: 'chess' },
      traits,
      true,
    ],
    [
      'notEquals fails when an element equals',
      { path: 'interests', notEquals: 'golf' },
      traits,
      false,
    ],
    [
      'notIn fails when an element is listed',
      { path: 'interests', notIn: ['tennis'], caseInsensitive: true },
      traits,
      false,
    ],
    ['ordering applies per element', { path: 'scores', gt: 10 }, { scores: [3, 12] }, true],
  ])('%s', (_name, trait, traits_, expected) => {
    expect(traitHolds(trait, traits_)).toBe(expected);
  });
});

describe('date traits', () => {
  const ago = (days: number): string => new Date(NOW - days * DAY).toISOString();
  it.each<[string, JsonObject, JsonObject, boolean]>([
    [
      'before daysAgo: more than 40 days ago',
      { path: 'signed_up_at', before: { daysAgo: 40 } },
      { signed_up_at: ago(41) },
      true,
    ],
    [
      'before daysAgo is exact to the millisecond',
      { path: 'signed_up_at', before: { daysAgo: 40 } },
      { signed_up_at: ago(40) },
      false,
    ],
    [
      'after daysAgo',
      { path: 'signed_up_at', after: { daysAgo: 40 } },
      { signed_up_at: ago(39) },
      true,
    ],
    [
      'before an absolute instant',
      { path: 'signed_up_at', before: { at: '2024-01-01T00:00:00Z' } },
      { signed_up_at: '2023-12-31T23:59:59Z' },
      true,
    ],
    [
      'after a calendar date',
      { path: 'signed_up_at', after: { date: '2024-06-01' } },
      { signed_up_at: '2024-06-02' },
      true,
    ],
    [
      'withinLast: within the last 7 days',
      { path: 'last_login', withinLast: { days: 7 } },
      { last_login: ago(6.9) },
      true,
    ],
    [
      'withinLast excludes older instants',
      { path: 'last_login', withinLast: { days: 7 } },
      { last_login: ago(7.1) },
      false,
    ],
    [
      'withinLast excludes future instants',
      { path: 'last_login', withinLast: { days: 7 } },
      { last_login: ago(-1) },
      false,
    ],
    [
      'withinNext: in the next 30 days',
      { path: 'renewal', withinNext: { days: 30 } },
      { renewal: ago(-29) },
      true,
    ],
    [
      'withinNext excludes past instants',
      { path: 'renewal', withinNext: { days: 30 } },
      { renewal: ago(1) },
      false,
    ],
    [
      'during a relative range',
      { path: 'renewal', during: { from: { daysFromNow: 10 }, to: { daysFromNow: 20 } } },
      { renewal: ago(-15) },
      true,
    ],
    [
      'during excludes its end',
      { path: 'renewal', during: { from: { date: '2024-06-01' }, to: { date: '2024-06-15' } } },
      { renewal: '2024-06-15' },
      false,
    ],
    [
      'this calendar year',
      { path: 'signed_up_at', calendar: { year: 0 } },
      { signed_up_at: '2024-01-01' },
      true,
    ],
    [
      'last calendar year',
      { path: 'signed_up_at', calendar: { year: -1 } },
      { signed_up_at: '2023-12-31T23:59:59Z' },
      true,
    ],
    [
      'last calendar year excludes this year',
      { path: 'signed_up_at', calendar: { year: -1 } },
      { signed_up_at: '2024-01-01' },
      false,
    ],
    [
      'next calendar month',
      { path: 'renewal', calendar: { month: 1 } },
      { renewal: '2024-07-31' },
      true,
    ],
    [
      'epoch milliseconds are dates too',
      { path: 'signed_up_at', before: { daysAgo: 40 } },
      { signed_up_at: NOW - 41 * DAY },
      true,
    ],
    [
      'unparseable values are not dates',
      { path: 'signed_up_at', before: { daysAgo: 40 } },
      { signed_up_at: 'last year' },
      false,
    ],
    [
      'a birthday within the next 7 days',
      { path: 'birthday', anniversary: { withinNextDays: 7 } },
      { birthday: '1990-06-20' },
      true,
    ],
    [
      'a birthday today',
      { path: 'birthday', anniversary: { withinNextDays: 0 } },
      { birthday: '1990-06-15' },
      true,
    ],
    [
      'a birthday that passed this year waits for next year',
      { path: 'birthday', anniversary: { withinNextDays: 7 } },
      { birthday: '1990-06-14' },
      false,
    ],
    [
      'a sign-up is not its own anniversary',
      { path: 'signed_up_at', anniversary: { withinNextDays: 7 } },
      { signed_up_at: '2024-06-16' },
      false,
    ],
    [
      'within 2 days after another date trait',
      { path: 'activated_at', afterTrait: { path: 'signed_up_at', within: { days: 2 } } },
      { signed_up_at: '2024-06-01T10:00:00Z', activated_at: '2024-06-03T09:00:00Z' },
      true,
    ],
    [
      'not before the anchor',
      { path: 'activated_at', afterTrait: { path: 'signed_up_at', within: { days: 2 } } },
      { signed_up_at: '2024-06-01T10:00:00Z', activated_at: '2024-06-01T09:00:00Z' },
      false,
    ],
  ])('%s', (_name, trait, traits, expected) => {
    expect(traitHolds(trait, traits)).toBe(expected);
  });

  it('reads date-only values and calendar periods in the rule time zone', () => {
    const trait = { path: 'signed_up_at', calendar: { day: 0 } };
    const lateEvening = Date.parse('2024-06-15T23:30:00Z');
    expect(traitHolds(trait, { signed_up_at: '2024-06-15' }, { now: lateEvening })).toBe(true);
    expect(
      traitHolds(
        trait,
        { signed_up_at: '2024-06-15' },
        { now: lateEvening, timeZone: 'Europe/Berlin' },
      ),
    ).toBe(false);
    expect(
      traitHolds(
        trait,
        { signed_up_at: '2024-06-16' },
        { now: lateEvening, timeZone: 'Europe/Berlin' },
      ),
    ).toBe(true);
  });

  it('puts a 29 February anniversary on 28 February in other years', () => {
    const trait = { path: 'birthday', anniversary: { withinNextDays: 0 } };
    expect(
      traitHolds(trait, { birthday: '2000-02-29' }, { now: Date.parse('2025-02-28T12:00:00Z') }),
    ).toBe(true);
    expect(
      traitHolds(trait, { birthday: '2000-02-29' }, { now: Date.parse('2024-02-28T12:00:00Z') }),
    ).toBe(false);
  });
});
