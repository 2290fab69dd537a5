import type { JsonObject } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { compile } from '../evaluation/compile';
import { sequenceSpecOf } from './dependencies';
import { explain } from '../evaluation/explain';
import { nextChangeAt } from './next-change';
import { oracle } from '../oracle/oracle';
import { applyRecencyEvent } from './recency';
import { applySequenceEvent, completeChains, followUpAfter, pruneSequence } from './sequence';
import type { RuleEvent, SequenceSpec } from './state';
import { ruleFromJson } from '../testing/arbitraries';
import { stateAfter, trackEvent } from '../testing/replay';
import { recencySpecOf } from './dependencies';

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

function sequenceRule(sequence: JsonObject): JsonObject {
  return { condition: { sequence } };
}

function check(
  json: JsonObject,
  events: RuleEvent[],
  now: string,
  limits?: { sequenceOccurrenceCap: number },
): boolean {
  const rule = ruleFromJson(json);
  const state = stateAfter({ rule, events, limits });
  const value = compile({ rule, limits })(state, at(now));
  expect(
    oracle({
      rule,
      history: { traits: {}, tags: [], lists: [], segments: {}, events },
      now: at(now),
      limits,
    }),
  ).toBe(value);
  return value;
}

const e = (name: string, iso: string): RuleEvent => trackEvent(name, iso);

describe('sequences', () => {
  const twoSteps = { steps: [{ event: 'A' }, { event: 'B' }] };

  it.each<[string, JsonObject, RuleEvent[], boolean]>([
    [
      'steps in order match',
      twoSteps,
      [e('A', '2024-05-01T00:00:00Z'), e('B', '2024-05-02T00:00:00Z')],
      true,
    ],
    [
      'steps out of order do not',
      twoSteps,
      [e('B', '2024-05-01T00:00:00Z'), e('A', '2024-05-02T00:00:00Z')],
      false,
    ],
    [
      'simultaneous steps are not in order',
      twoSteps,
      [e('A', '2024-05-01T00:00:00Z'), e('B', '2024-05-01T00:00:00Z')],
      false,
    ],
    [
      'a repeated event can fill consecutive steps',
      { steps: [{ event: 'A' }, { event: 'A' }] },
      [e('A', '2024-05-01T00:00:00Z'), e('A', '2024-05-01T00:00:01Z')],
      true,
    ],
    [
      'one occurrence cannot fill two steps',
      { steps: [{ event: 'A' }, { event: 'A' }] },
      [e('A', '2024-05-01T00:00:00Z')],
      false,
    ],
    [
      'the gap between steps is limited (inclusive)',
      { ...twoSteps, maxGap: { hours: 1 } },
      [e('A', '2024-05-01T00:00:00Z'), e('B', '2024-05-01T01:00:00Z')],
      true,
    ],
    [
      'a longer gap breaks the chain',
      { ...twoSteps, maxGap: { hours: 1 } },
      [e('A', '2024-05-01T00:00:00Z'), e('B', '2024-05-01T01:00:00.001Z')],
      false,
    ],
    [
      'a later first step can rescue the gap',
      { ...twoSteps, maxGap: { hours: 1 } },
      [
        e('A', '2024-05-01T00:00:00Z'),
        e('A', '2024-05-01T00:30:00Z'),
        e('B', '2024-05-01T01:20:00Z'),
      ],
      true,
    ],
    [
      'the overall span is limited',
      { ...twoSteps, within: { days: 1 } },
      [e('A', '2024-05-01T00:00:00Z'), e('B', '2024-05-02T00:00:01Z')],
      false,
    ],
    [
      'every step must be in the window',
      { ...twoSteps, window: { lastDays: 2 } },
      [e('A', '2024-05-01T00:00:00Z'), e('B', '2024-05-03T00:00:00Z')],
      false,
    ],
  ])('%s', (_name, sequence, events, expected) => {
    expect(check(sequenceRule(sequence), events, '2024-05-03T12:00:00Z')).toBe(expected);
  });

  it('takes both passes of an hour repeated by a fall-back as that hour (Pacific/Chatham)', () => {
    // 03:44:59 +13:45 and 03:00 +12:45 are both in the hour 03:00; 02:45 +12:45 is not.
    const events = [
      e('A', '2024-04-06T13:59:59.999Z'),
      e('A', '2024-04-06T14:00:00Z'),
      e('B', '2024-04-06T14:15:00Z'),
    ];
    const json = {
      timeZone: 'Pacific/Chatham',
      ...sequenceRule({ ...twoSteps, window: { lastHours: 1 } }),
    };
    expect(check(json, events, '2024-04-06T14:20:00Z')).toBe(true);
    expect(check(json, events.slice(1), '2024-04-06T14:20:00Z')).toBe(false);
  });

  it('finds chains through a sliding maximum of chain starts', () => {
    const chains = completeChains({
      steps: [[0, 10, 20], [15, 25], [30]],
      covers: () => true,
      shape: { maxGap: 10, within: undefined, followUpWithin: undefined },
    });
    expect(chains).toEqual([{ start: 20, end: 30 }]);
  });

  it('considers only the most recent occurrences of each step (the cap), so old first steps can be forgotten', () => {
    const events = [
      e('A', '2024-05-01T00:00:00Z'),
      e('B', '2024-05-01T01:00:00Z'),
      e('A', '2024-05-01T02:00:00Z'),
      e('A', '2024-05-01T03:00:00Z'),
    ];
    const json = sequenceRule({ steps: [{ event: 'A' }, { event: 'B' }] });
    expect(check(json, events, '2024-05-02T00:00:00Z')).toBe(true);
    expect(check(json, events, '2024-05-02T00:00:00Z', { sequenceOccurrenceCap: 2 })).toBe(false);
    const rule = ruleFromJson(json);
    const limits = { sequenceOccurrenceCap: 2 };
    const state = stateAfter({ rule, events, limits });
    expect(
      explain({ rule, state, now: at('2024-05-02T00:00:00Z'), limits }).condition?.notes,
    ).toEqual(['only the 2 most recent occurrences of each step are considered']);
  });
});

describe('abandonment (notFollowedBy)', () => {
  const abandoned = sequenceRule({
    steps: [{ event: 'Cart' }],
    notFollowedBy: { event: 'Order', within: { days: 2 } },
  });

  it.each<[string, RuleEvent[], string, boolean]>([
    [
      'is pending until the follow-up span has passed',
      [e('Cart', '2024-05-01T00:00:00Z')],
      '2024-05-03T00:00:00Z',
      false,
    ],
    [
      'holds just after the span passes with no follow-up',
      [e('Cart', '2024-05-01T00:00:00Z')],
      '2024-05-03T00:00:00.001Z',
      true,
    ],
    [
      'does not hold when the follow-up came within the span',
      [e('Cart', '2024-05-01T00:00:00Z'), e('Order', '2024-05-03T00:00:00Z')],
      '2024-05-04T00:00:00Z',
      false,
    ],
    [
      'holds when the follow-up came too late',
      [e('Cart', '2024-05-01T00:00:00Z'), e('Order', '2024-05-03T00:00:00.001Z')],
      '2024-05-04T00:00:00Z',
      true,
    ],
    [
      'a follow-up at the same instant is not after the step',
      [e('Cart', '2024-05-01T00:00:00Z'), e('Order', '2024-05-01T00:00:00Z')],
      '2024-05-04T00:00:00Z',
      true,
    ],
    [
      'any unfollowed occurrence counts',
      [
        e('Cart', '2024-05-01T00:00:00Z'),
        e('Order', '2024-05-01T01:00:00Z'),
        e('Cart', '2024-05-01T02:00:00Z'),
      ],
      '2024-05-04T00:00:00Z',
      true,
    ],
  ])('%s', (_name, events, now, expected) => {
    expect(check(abandoned, events, now)).toBe(expected);
  });

  it('names the deadline as the next change instant and explains the wait', () => {
    const rule = ruleFromJson(abandoned);
    const state = stateAfter({ rule, events: [e('Cart', '2024-05-01T00:00:00Z')] });
    expect(nextChangeAt({ rule, state, now: at('2024-05-01T12:00:00Z') })).toBe(
      at('2024-05-03T00:00:00Z') + 1,
    );
    expect(explain({ rule, state, now: at('2024-05-01T12:00:00Z') }).condition?.summary).toBe(
      'sequence Cart completed at 2024-05-01T00:00:00.000Z; waiting until 2024-05-03T00:00:00.001Z for Order',
    );
  });
});

describe('sequence state', () => {
  const rule = ruleFromJson(
    sequenceRule({ steps: [{ event: 'A' }, { event: 'B' }], window: { lastHours: 2 } }),
  );
  const condition =
    rule.condition?.kind.case === 'sequence' ? rule.condition.kind.value : undefined;
  const spec = sequenceSpecOf({
    sequence: condition as NonNullable<typeof condition>,
    timeZone: 'UTC',
    limits: { sequenceOccurrenceCap: 2 },
  }) as SequenceSpec;

  it('keeps the most recent occurrences by timestamp, whatever the arrival order', () => {
    const state = [
      '2024-05-01T03:00:00Z',
      '2024-05-01T01:00:00Z',
      '2024-05-01T04:00:00Z',
      '2024-05-01T00:00:00Z',
    ].reduce(
      (current, iso) => applySequenceEvent({ state: current, spec, event: e('A', iso) }),
      applySequenceEvent({ state: undefined, spec, event: e('C', '2024-05-01T00:00:00Z') }),
    );
    expect(state?.steps[0]).toEqual([at('2024-05-01T03:00:00Z'), at('2024-05-01T04:00:00Z')]);
    expect(state?.steps[1]).toEqual([]);
  });

  it('leaves an absent state absent for an event no step matches', () => {
    expect(
      applySequenceEvent({ state: undefined, spec, event: e('C', '2024-05-01T00:00:00Z') }),
    ).toBeUndefined();
  });

  it('keeps occurrences of the hour the clock is about to fall back into (Pacific/Chatham)', () => {
    const chatham = sequenceSpecOf({
      sequence: condition as NonNullable<typeof condition>,
      timeZone: 'Pacific/Chatham',
    });
    const state = applySequenceEvent({
      state: undefined,
      spec: chatham,
      event: e('A', '2024-04-06T11:45:00Z'), // 01:30 +13:45
    });
    // At 03:30 +13:45 the window (hours 02:00 and 03:00) no longer holds 01:00, but from 02:45
    // +12:45 on it holds 01:00 and 02:00 again.
    expect(pruneSequence({ state, spec: chatham, now: at('2024-04-06T13:45:00Z') })).toBe(state);
    expect(
      pruneSequence({ state, spec: chatham, now: at('2024-04-06T14:15:00Z') })?.steps[0],
    ).toEqual([]);
  });

  it('drops occurrences the window can no longer reach', () => {
    const state = applySequenceEvent({
      state: undefined,
      spec,
      event: e('A', '2024-05-01T00:30:00Z'),
    });
    expect(pruneSequence({ state, spec, now: at('2024-05-01T01:59:00Z') })).toBe(state);
    expect(pruneSequence({ state, spec, now: at('2024-05-01T02:00:00Z') })?.steps[0]).toEqual([]);
  });
});

describe('first and last occurrence', () => {
  it('keeps the earliest and latest instants, whatever the arrival order', () => {
    const rule = ruleFromJson({
      condition: { event: { name: 'A', firstSeen: { withinLast: { days: 7 } } } },
    });
    const condition = rule.condition?.kind.case === 'event' ? rule.condition.kind.value : undefined;
    const spec = recencySpecOf({
      event: condition as NonNullable<typeof condition>,
      timeZone: 'UTC',
    });
    const state = ['2024-05-03T00:00:00Z', '2024-05-01T00:00:00Z', '2024-05-02T00:00:00Z'].reduce(
      (current, iso) => applyRecencyEvent({ state: current, spec, event: e('A', iso) }),
      applyRecencyEvent({ state: undefined, spec, event: e('B', '2024-01-01T00:00:00Z') }),
    );
    expect(state).toEqual({ first: at('2024-05-01T00:00:00Z'), last: at('2024-05-03T00:00:00Z') });
  });

  it.each<[string, JsonObject, boolean]>([
    [
      'first seen N days ago (on that calendar day)',
      { firstSeen: { calendar: { day: -10 } } },
      true,
    ],
    ['last seen more than 40 days ago', { lastSeen: { before: { daysAgo: 40 } } }, false],
    ['has not done it in 5 days', { lastSeen: { before: { daysAgo: 5 } } }, true],
    [
      'did it within 2 days of signing up',
      { firstSeen: { afterTrait: { path: 'signed_up_at', within: { days: 2 } } } },
      true,
    ],
    ['first seen within the last 7 days', { firstSeen: { withinLast: { days: 7 } } }, false],
  ])('%s', (_name, measure, expected) => {
    const json = { condition: { event: { name: 'A', ...measure } } };
    const events = [e('A', '2024-05-01T10:00:00Z'), e('A', '2024-05-04T10:00:00Z')];
    const rule = ruleFromJson(json);
    const traits = { signed_up_at: '2024-04-30T12:00:00Z' };
    const state = stateAfter({ rule, events, init: { traits } });
    const now = at('2024-05-11T12:00:00Z');
    expect(compile({ rule })(state, now)).toBe(expected);
    expect(
      oracle({ rule, history: { traits, tags: [], lists: [], segments: {}, events }, now }),
    ).toBe(expected);
  });

  it('treats never-seen events as failing every recency test', () => {
    const rule = ruleFromJson({
      condition: { event: { name: 'A', lastSeen: { before: { daysAgo: 40 } } } },
    });
    expect(
      compile({ rule })(stateAfter({ rule, events: [] }), at('2024-05-01T00:00:00Z') + HOUR),
    ).toBe(false);
  });
});

describe('follow-ups', () => {
  it('finds the first follow-up after an end within a span, as a scan of the ascending list does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 30 }),
        fc.integer({ min: -60, max: 60 }),
        fc.nat({ max: 40 }),
        (instants, end, within) => {
          const followUps = [...instants].sort((a, b) => a - b);
          expect(followUpAfter(followUps, end, within)).toBe(
            followUps.find((instant) => instant > end && instant <= end + within),
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('finds none in an empty list, nor at the end itself, nor past the span', () => {
    expect(followUpAfter([], 10, 5)).toBeUndefined();
    expect(followUpAfter([10], 10, 5)).toBeUndefined();
    expect(followUpAfter([10, 16], 10, 5)).toBeUndefined();
    expect(followUpAfter([10, 10, 15, 15], 10, 5)).toBe(15);
  });
});
