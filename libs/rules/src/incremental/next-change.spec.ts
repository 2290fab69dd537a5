import type { JsonObject } from '@bufbuild/protobuf';
import { nextChange, nextChangeAt } from './next-change';
import { emptyState, type EvaluationState, type RuleEvent } from './state';
import { ruleFromJson } from '../testing/arbitraries';
import { stateAfter, trackEvent } from '../testing/replay';

function next(
  json: JsonObject,
  events: RuleEvent[],
  now: string,
  traits: JsonObject = {},
): string | undefined {
  const rule = ruleFromJson(json);
  const instant = nextChangeAt({
    rule,
    state: stateAfter({ rule, events, init: { traits } }),
    now: Date.parse(now),
  });
  return instant === undefined ? undefined : new Date(instant).toISOString();
}

const visit = (iso: string): RuleEvent => trackEvent('Visit', iso);

describe('nextChangeAt', () => {
  it.each<[string, JsonObject, RuleEvent[], string, string | undefined]>([
    [
      'emits the instant a 40-day recency window passes, to the millisecond',
      { condition: { event: { name: 'Visit', lastSeen: { before: { daysAgo: 40 } } } } },
      [visit('2024-01-01T08:00:00Z')],
      '2024-01-20T00:00:00Z',
      '2024-02-10T08:00:00.001Z',
    ],
    [
      'emits the local midnight at which the last event leaves a 7-day window',
      {
        timeZone: 'America/New_York',
        condition: { event: { name: 'Visit', count: { gte: 1 }, window: { lastDays: 7 } } },
      },
      [visit('2024-03-05T15:00:00Z')],
      '2024-03-06T00:00:00Z',
      '2024-03-12T04:00:00.000Z',
    ],
    [
      'waits for the count to drop below the threshold, not for the first bucket to leave',
      { condition: { event: { name: 'Visit', count: { gte: 2 }, window: { lastDays: 3 } } } },
      [visit('2024-03-01T10:00:00Z'), visit('2024-03-02T10:00:00Z'), visit('2024-03-02T11:00:00Z')],
      '2024-03-02T12:00:00Z',
      '2024-03-05T00:00:00.000Z',
    ],
    [
      'emits the next hour for an hourly window',
      { condition: { event: { name: 'Visit', count: { gte: 1 }, window: { lastHours: 2 } } } },
      [visit('2024-03-01T10:59:00Z')],
      '2024-03-01T11:30:00Z',
      '2024-03-01T12:00:00.000Z',
    ],
    [
      'emits the new year for a last-calendar-year window',
      {
        timeZone: 'Asia/Kolkata',
        condition: {
          event: { name: 'Visit', count: { gte: 1 }, window: { calendar: { year: -1 } } },
        },
      },
      [visit('2023-06-01T00:00:00Z')],
      '2024-03-01T00:00:00Z',
      '2024-12-31T18:30:00.000Z',
    ],
    [
      'emits when an event enters "last calendar month" at the start of the next month',
      {
        condition: {
          event: { name: 'Visit', count: { gte: 1 }, window: { calendar: { month: -1 } } },
        },
      },
      [visit('2024-03-10T00:00:00Z')],
      '2024-03-20T00:00:00Z',
      '2024-04-01T00:00:00.000Z',
    ],
    [
      'has no next change for an all-time count',
      { condition: { event: { name: 'Visit', count: { gte: 1 } } } },
      [visit('2024-03-10T00:00:00Z')],
      '2024-03-20T00:00:00Z',
      undefined,
    ],
    [
      'has no next change once a windowed count can never change again',
      { condition: { event: { name: 'Visit', count: { gte: 1 }, window: { lastDays: 3 } } } },
      [visit('2024-03-10T00:00:00Z')],
      '2024-03-20T00:00:00Z',
      undefined,
    ],
    [
      'ignores a time-relative child that cannot change the group',
      {
        condition: {
          all: {
            conditions: [
              { hasTag: 'vip' },
              { event: { name: 'Visit', count: { gte: 1 }, window: { lastDays: 3 } } },
            ],
          },
        },
      },
      [visit('2024-03-10T00:00:00Z')],
      '2024-03-11T00:00:00Z',
      undefined,
    ],
    [
      'emits the start of the anniversary window for a birthday',
      { condition: { trait: { path: 'birthday', anniversary: { withinNextDays: 7 } } } },
      [],
      '2024-05-01T00:00:00Z',
      '2024-06-08T00:00:00.000Z',
    ],
    [
      'emits when a date trait enters "within the next 30 days"',
      { condition: { trait: { path: 'renewal', withinNext: { days: 30 } } } },
      [],
      '2024-05-01T00:00:00Z',
      '2024-05-16T00:00:00.000Z',
    ],
  ])('%s', (_name, json, events, now, expected) => {
    expect(
      next(json, events, now, { birthday: '1990-06-15', renewal: '2024-06-15T00:00:00Z' }),
    ).toBe(expected);
  });

  describe('across the Pacific/Chatham fall-back (03:45 +13:45 becomes 02:45 +12:45, at 14:00Z)', () => {
    // Hour buckets are wall-clock hours: the clock reads 02:45 to 03:45 twice, so the hour
    // 03:00 is followed by the hour 02:00 again for 15 minutes, then 03:00 again.
    const lastHour = {
      timeZone: 'Pacific/Chatham',
      condition: { event: { name: 'Visit', count: { gte: 1 }, window: { lastHours: 1 } } },
    };
    it.each<[string, string, string, string | undefined]>([
      [
        'leaves the current hour when the clock falls back into the previous one',
        '2024-04-06T13:25:00Z', // 03:10 +13:45
        '2024-04-06T13:30:00Z',
        '2024-04-06T14:00:00.000Z',
      ],
      [
        'comes back when the clock falls back into the hour of the event',
        '2024-04-06T12:50:00Z', // 02:35 +13:45
        '2024-04-06T13:20:00Z',
        '2024-04-06T14:00:00.000Z',
      ],
      [
        'leaves at the first 03:00, not the second',
        '2024-04-06T12:50:00Z',
        '2024-04-06T13:00:00Z',
        '2024-04-06T13:15:00.000Z',
      ],
      [
        'comes back at the second 03:00 after falling back',
        '2024-04-06T13:25:00Z',
        '2024-04-06T14:05:00Z', // 02:50 +12:45
        '2024-04-06T14:15:00.000Z',
      ],
      [
        'leaves for good at 04:00',
        '2024-04-06T13:25:00Z',
        '2024-04-06T14:20:00Z', // 03:05 +12:45
        '2024-04-06T15:15:00.000Z',
      ],
    ])('%s', (_name, visitedAt, now, expected) => {
      expect(next(lastHour, [visit(visitedAt)], now)).toBe(expected);
    });
  });

  describe('account rules counting contacts', () => {
    const DAY = 86_400_000;
    const recentVisitor = { event: { name: 'Visit', lastSeen: { withinLast: { days: 30 } } } };
    const birthdayToday = { trait: { path: 'birthday', anniversary: { withinNextDays: 0 } } };

    function account(where: JsonObject, count: JsonObject, contacts: EvaluationState[]) {
      const rule = ruleFromJson({
        audience: 'AUDIENCE_ACCOUNTS',
        condition: { contacts: { where, count } },
      });
      return { rule, state: stateAfter({ rule, events: [], init: { contacts } }) };
    }

    function visitors(visits: string[]): EvaluationState[] {
      const rule = ruleFromJson({ condition: recentVisitor });
      return visits.map((iso) => stateAfter({ rule, events: [visit(iso)] }));
    }

    function birthdays(dates: string[]): EvaluationState[] {
      return dates.map((birthday) => emptyState({ traits: { birthday } }));
    }

    it('emits the next change of a contact', () => {
      const { rule, state } = account(
        recentVisitor,
        { gte: 2 },
        visitors(['2024-03-01T00:00:00Z', '2024-03-05T00:00:00Z']),
      );
      const instant = nextChangeAt({ rule, state, now: Date.parse('2024-03-10T00:00:00Z') });
      expect(new Date(instant as number).toISOString()).toBe('2024-03-31T00:00:00.001Z');
    });

    it('follows hundreds of contacts leaving one by one to the one that changes the count', () => {
      // 600 visits an hour apart: "at least 300" fails when the 301st oldest visit leaves the 30 days.
      const first = Date.parse('2024-03-01T00:00:00Z');
      const visits = Array.from({ length: 600 }, (_, index) =>
        new Date(first + index * 3_600_000).toISOString(),
      );
      const { rule, state } = account(recentVisitor, { gte: 300 }, visitors(visits));
      const change = nextChange({ rule, state, now: Date.parse('2024-03-26T00:00:00Z') });
      expect(change).toEqual({ at: first + 300 * 3_600_000 + 30 * DAY + 1, certain: true });
    });

    it('has no next change when the count passes whatever it is, however often contacts change', () => {
      const { rule, state } = account(birthdayToday, { gte: 0 }, birthdays(['1990-01-01']));
      expect(nextChange({ rule, state, now: Date.parse('2024-03-10T00:00:00Z') })).toBeUndefined();
    });

    it('settles for a re-check instant when contacts keep changing but never enough at once', () => {
      const { rule, state } = account(
        birthdayToday,
        { gte: 2 },
        birthdays(['1990-01-01', '1990-07-01']),
      );
      const now = Date.parse('2024-03-10T00:00:00Z');
      const change = nextChange({ rule, state, now });
      expect(change?.certain).toBe(false);
      expect(change?.at).toBeGreaterThan(now + 365 * DAY);
    });
  });
});
