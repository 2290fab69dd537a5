import type { JsonObject } from '@bufbuild/protobuf';
import type { Rule } from '@shoal/contracts';
import fc from 'fast-check';
import { applyEventToState, pruneState } from '../incremental/apply';
import { compile } from '../evaluation/compile';
import { dependenciesOf, specsOf } from '../incremental/dependencies';
import { nextChange } from '../incremental/next-change';
import { oracle, type SubjectHistory } from './oracle';
import { emptyState, type EvaluationState, type RuleEvent } from '../incremental/state';
import {
  INTERESTING_STARTS,
  TEST_LIMITS,
  TIME_ZONES,
  TRANSITIONS_2024,
  JOURNEY_EVENTS,
  arbArrivals,
  arbFacts,
  arbJourneyCondition,
  arbRuleJson,
  propertyRuns,
  ruleFromJson,
  type Arrival,
  type SubjectFacts,
} from '../testing/arbitraries';

// The proof of the incremental path: random rules and random event streams (time jumps from
// seconds to months, late and future-stamped events, DST zones), folded event by event with
// applyEvent and pruned as the membership service would, must agree with the brute-force oracle
// at random instants; and nextChangeAt must name exactly the instant the value next changes.

const RUNS = propertyRuns(300, process.env['FC_RUNS']);
const ACCOUNT_RUNS = propertyRuns(150, process.env['FC_RUNS']);
const DAY = 86_400_000;

const fraction = fc.double({ min: 0, max: 1, noNaN: true });

interface Replay {
  state: EvaluationState;
  history: SubjectHistory;
}

function startState(facts: SubjectFacts): EvaluationState {
  return emptyState({
    traits: facts.traits,
    tags: facts.tags,
    lists: facts.lists,
    segments: facts.segments,
  });
}

/** Folds arrivals into state (pruning at each arrival), calling `check` at an instant before the next arrival. */
function replay({
  rule,
  facts,
  arrivals,
  contacts = [],
  checkpoint,
  check,
}: {
  rule: Rule;
  facts: SubjectFacts;
  arrivals: readonly Arrival[];
  contacts?: readonly Replay[];
  checkpoint: (index: number, from: number, until: number) => number;
  check: (replayed: Replay, now: number) => void;
}): Replay {
  const specs = specsOf({ rule, limits: TEST_LIMITS });
  let state = {
    ...startState(facts),
    ...(contacts.length > 0 ? { contacts: contacts.map((contact) => contact.state) } : {}),
  };
  const events: RuleEvent[] = [];
  arrivals.forEach((arrival, index) => {
    state = applyEventToState({ state, specs, event: arrival.event });
    events.push(arrival.event);
    state = pruneState({ state, specs, now: arrival.arrivedAt });
    const until = arrivals[index + 1]?.arrivedAt ?? arrival.arrivedAt + 60 * DAY;
    const now = checkpoint(index, arrival.arrivedAt, until);
    const history = {
      ...facts,
      events: [...events],
      contacts: contacts.map((contact) => contact.history),
    };
    check({ state, history }, now);
  });
  return {
    state,
    history: { ...facts, events, contacts: contacts.map((contact) => contact.history) },
  };
}

const scenario = fc.constantFrom(...INTERESTING_STARTS).chain((base) =>
  fc.record({
    json: arbRuleJson({ base, depth: 3, distinctCap: 3 }),
    facts: arbFacts(base),
    arrivals: arbArrivals(base, { maxLength: 30 }),
    fractions: fc.array(fraction, { minLength: 30, maxLength: 30 }),
  }),
);

describe('incremental evaluation against the oracle', () => {
  it(`agrees with the oracle at every checkpoint of random event streams (${RUNS} runs)`, () => {
    let checks = 0;
    let matches = 0;
    fc.assert(
      fc.property(scenario, ({ json, facts, arrivals, fractions }) => {
        const rule = ruleFromJson(json);
        const predicate = compile({ rule, limits: TEST_LIMITS });
        replay({
          rule,
          facts,
          arrivals,
          checkpoint: (index, from, until) =>
            Math.floor(from + (fractions[index] ?? 0) ** 2 * (until - from)),
          check: ({ state, history }, now) => {
            const expected = oracle({ rule, history, now, limits: TEST_LIMITS });
            expect(predicate(state, now)).toBe(expected);
            checks += 1;
            if (expected) matches += 1;
          },
        });
      }),
      { numRuns: RUNS },
    );
    // Guard against a vacuous property: both outcomes must occur often.
    expect(matches).toBeGreaterThan(checks * 0.1);
    expect(matches).toBeLessThan(checks * 0.9);
  });

  it(`agrees with the oracle for account rules counting their contacts, and names their next change (${ACCOUNT_RUNS} runs)`, () => {
    const accounts = fc.constantFrom(...INTERESTING_STARTS).chain((base) =>
      fc.record({
        json: arbRuleJson({ base, depth: 1, distinctCap: 3, accounts: true }),
        account: arbFacts(base),
        accountArrivals: arbArrivals(base, { maxLength: 8 }),
        contacts: fc.array(
          fc.record({ facts: arbFacts(base), arrivals: arbArrivals(base, { maxLength: 10 }) }),
          {
            maxLength: 4,
          },
        ),
        fractions: fc.array(fraction, { minLength: 10, maxLength: 10 }),
      }),
    );
    fc.assert(
      fc.property(accounts, ({ json, account, accountArrivals, contacts, fractions }) => {
        const rule = ruleFromJson(json);
        const predicate = compile({ rule, limits: TEST_LIMITS });
        const contactSpecs = dependenciesOf({ rule, limits: TEST_LIMITS }).contacts?.specs ?? [];
        const replayedContacts = contacts.map(({ facts, arrivals }) => {
          let state = startState(facts);
          for (const arrival of arrivals)
            state = applyEventToState({ state, specs: contactSpecs, event: arrival.event });
          return { state, history: { ...facts, events: arrivals.map((arrival) => arrival.event) } };
        });
        replay({
          rule,
          facts: account,
          arrivals: accountArrivals,
          contacts: replayedContacts,
          checkpoint: (index, from, until) =>
            Math.floor(from + (fractions[index] ?? 0) * (until - from)),
          check: ({ state, history }, now) => {
            const value = oracle({ rule, history, now, limits: TEST_LIMITS });
            expect(predicate(state, now)).toBe(value);
            const change = nextChange({ rule, state, now, limits: TEST_LIMITS });
            if (change === undefined) return;
            expect(predicate(state, change.at - 1)).toBe(value);
            if (change.certain)
              expect(oracle({ rule, history, now: change.at, limits: TEST_LIMITS })).toBe(!value);
          },
        });
      }),
      { numRuns: ACCOUNT_RUNS },
    );
  });
});

describe('sequences, abandonment and first-time conditions against the oracle', () => {
  const journeys = fc.constantFrom(...INTERESTING_STARTS).chain((base) =>
    fc.record({
      condition: arbJourneyCondition(base),
      timeZone: fc.constantFrom(...TIME_ZONES),
      arrivals: arbArrivals(base, { minLength: 2, maxLength: 30, names: JOURNEY_EVENTS }),
      fractions: fc.array(fraction, { minLength: 30, maxLength: 30 }),
    }),
  );
  const noFacts: SubjectFacts = { traits: {}, tags: [], lists: [], segments: {} };

  it(`agrees with the oracle and names each next change exactly (${RUNS} runs)`, () => {
    let checks = 0;
    let matches = 0;
    let changes = 0;
    fc.assert(
      fc.property(journeys, ({ condition, timeZone, arrivals, fractions }) => {
        const rule = ruleFromJson({ condition, timeZone });
        const predicate = compile({ rule, limits: TEST_LIMITS });
        replay({
          rule,
          facts: noFacts,
          arrivals,
          checkpoint: (index, from, until) =>
            Math.floor(from + (fractions[index] ?? 0) * (until - from)),
          check: ({ state, history }, now) => {
            const value = oracle({ rule, history, now, limits: TEST_LIMITS });
            expect(predicate(state, now)).toBe(value);
            checks += 1;
            if (value) matches += 1;
            const change = nextChange({ rule, state, now, limits: TEST_LIMITS });
            if (change === undefined) return;
            expect(predicate(state, Math.floor((now + change.at) / 2))).toBe(value);
            expect(predicate(state, change.at - 1)).toBe(value);
            if (!change.certain) return;
            changes += 1;
            expect(oracle({ rule, history, now: change.at, limits: TEST_LIMITS })).toBe(!value);
          },
        });
      }),
      { numRuns: RUNS },
    );
    expect(matches).toBeGreaterThan(checks * 0.15);
    expect(changes).toBeGreaterThan(checks * 0.15);
  });
});

describe('nextChangeAt', () => {
  const timeScenario = fc.constantFrom(...INTERESTING_STARTS).chain((base) =>
    fc.record({
      json: arbRuleJson({ base, depth: 2, distinctCap: 3, timeRelativeOnly: true }),
      facts: arbFacts(base),
      arrivals: arbArrivals(base, { minLength: 1, maxLength: 20 }),
      cut: fc.nat(),
      start: fraction,
      samples: fc.array(fraction, { minLength: 6, maxLength: 6 }),
    }),
  );

  it(`names the instant the value next changes, and the value holds until then (${RUNS} runs)`, () => {
    let changes = 0;
    let instants = 0;
    fc.assert(
      fc.property(timeScenario, ({ json, facts, arrivals, cut, start, samples }) => {
        const rule = ruleFromJson(json);
        const predicate = compile({ rule, limits: TEST_LIMITS });
        const upTo = arrivals.slice(0, 1 + (cut % arrivals.length));
        const { state, history } = replay({
          rule,
          facts,
          arrivals: upTo,
          checkpoint: (_i, from) => from,
          check: () => undefined,
        });
        const last = upTo[upTo.length - 1] as Arrival;
        let now = Math.floor(last.arrivedAt + start ** 2 * 2 * DAY);
        // Follow the timeline through several changes: each must be exact, and nothing may change in between.
        for (let hop = 0; hop < 4; hop += 1) {
          instants += 1;
          const value = predicate(state, now);
          const change = nextChange({ rule, state, now, limits: TEST_LIMITS });
          const horizon = change?.at ?? now + 3 * 365 * DAY;
          for (const sample of [...samples, 1]) {
            const at = Math.min(horizon - 1, now + 1 + Math.floor(sample * (horizon - now - 2)));
            if (at > now) expect(predicate(state, at)).toBe(value);
          }
          if (change === undefined) return;
          expect(change.at).toBeGreaterThan(now);
          if (change.certain) {
            changes += 1;
            expect(predicate(state, change.at)).toBe(!value);
            expect(oracle({ rule, history, now: change.at, limits: TEST_LIMITS })).toBe(!value);
          }
          now = change.at;
        }
      }),
      { numRuns: RUNS },
    );
    expect(changes).toBeGreaterThan(instants * 0.15);
  });
});

describe('hour and day windows across DST transitions', () => {
  const HOUR = 3_600_000;
  const QUARTER = 15 * 60_000;
  const window: fc.Arbitrary<JsonObject> = fc.oneof(
    fc.record({ lastHours: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ lastDays: fc.integer({ min: 1, max: 2 }) }),
    fc.record({ calendar: fc.record({ day: fc.integer({ min: -1, max: 0 }) }) }),
  );
  const condition: fc.Arbitrary<JsonObject> = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...JOURNEY_EVENTS),
        fc.constantFrom<JsonObject>({ gte: 1 }, { gte: 2 }, { eq: 0 }),
        window,
      )
      .map(([name, count, span]) => ({ event: { name, count, window: span } })),
    window.map((span) => ({
      sequence: { steps: [{ event: 'cart' }, { event: 'order' }], window: span },
    })),
  );
  const around = fc.constantFrom(...TRANSITIONS_2024).chain(({ timeZone, at }) =>
    fc.record({
      transition: fc.constant(at),
      timeZone: fc.constant(timeZone),
      condition,
      arrivals: fc
        .array(
          fc.record({
            offset: fc.integer({ min: -4 * HOUR, max: 3 * HOUR }),
            late: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 * HOUR })),
            name: fc.constantFrom(...JOURNEY_EVENTS),
          }),
          { minLength: 1, maxLength: 8 },
        )
        .map((items) =>
          items
            .map(({ offset, late, name }) => ({
              arrivedAt: at + offset,
              event: { name, timestamp: at + offset - late, properties: {} },
            }))
            .sort((a, b) => a.arrivedAt - b.arrivedAt),
        ),
      fractions: fc.array(fraction, { minLength: 8, maxLength: 8 }),
    }),
  );
  const noFacts: SubjectFacts = { traits: {}, tags: [], lists: [], segments: {} };

  it(`agrees with the oracle at every quarter hour near the transition until each next change, which is exact (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(around, ({ transition, timeZone, condition: json, arrivals, fractions }) => {
        const rule = ruleFromJson({ timeZone, condition: json });
        const predicate = compile({ rule, limits: TEST_LIMITS });
        const valueAt = (history: SubjectHistory, now: number): boolean =>
          oracle({ rule, history, now, limits: TEST_LIMITS });
        replay({
          rule,
          facts: noFacts,
          arrivals,
          checkpoint: (index, from, until) =>
            Math.floor(from + (fractions[index] ?? 0) * Math.min(until - from, 6 * HOUR)),
          check: ({ state, history }, start) => {
            let now = start;
            for (let hop = 0; hop < 3; hop += 1) {
              const value = valueAt(history, now);
              expect(predicate(state, now)).toBe(value);
              const change = nextChange({ rule, state, now, limits: TEST_LIMITS });
              const horizon = change?.at ?? now + 2 * 24 * HOUR;
              // Offsets here are whole quarter hours, so every bucket starts on a quarter hour:
              // nothing may change at any quarter hour near the transition before `horizon`.
              const first = Math.max(now, transition - 4 * HOUR);
              const last = Math.min(horizon - 1, transition + 4 * HOUR);
              for (
                let at = Math.floor(first / QUARTER) * QUARTER + QUARTER;
                at <= last;
                at += QUARTER
              )
                expect([at, valueAt(history, at)]).toEqual([at, value]);
              expect(valueAt(history, horizon - 1)).toBe(value);
              if (change === undefined || !change.certain) return;
              expect(valueAt(history, change.at)).toBe(!value);
              now = change.at;
            }
          },
        });
      }),
      { numRuns: RUNS },
    );
  });
});
