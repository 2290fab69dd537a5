import { equals, toJson, type JsonObject } from '@bufbuild/protobuf';
import { RuleSchema } from '@shoal/contracts';
import fc from 'fast-check';
import { compile } from '../evaluation/compile';
import { specsOf } from '../incremental/dependencies';
import { normaliseRule } from './normalise';
import { oracle } from '../oracle/oracle';
import {
  INTERESTING_STARTS,
  TEST_LIMITS,
  arbArrivals,
  arbFacts,
  arbRuleJson,
  propertyRuns,
  ruleFromJson,
} from '../testing/arbitraries';
import { stateAfter } from '../testing/replay';
import { validateRule } from './validate';

const RUNS = propertyRuns(300, process.env['FC_RUNS']);

const normalisedJson = (json: JsonObject) => toJson(RuleSchema, normaliseRule(ruleFromJson(json)));

describe('normaliseRule', () => {
  it.each<[string, JsonObject, JsonObject]>([
    [
      'replaces single-child all/any groups by their child',
      { condition: { all: { conditions: [{ any: { conditions: [{ hasTag: 'vip' }] } }] } } },
      { condition: { hasTag: 'vip' }, timeZone: 'UTC', audience: 'AUDIENCE_PROFILES' },
    ],
    [
      'flattens nested groups of the same kind, drops duplicates and sorts',
      {
        condition: {
          all: {
            conditions: [
              { inList: 'b' },
              { all: { conditions: [{ inList: 'a' }, { inList: 'b' }] } },
            ],
          },
        },
      },
      {
        condition: { all: { conditions: [{ inList: 'a' }, { inList: 'b' }] } },
        timeZone: 'UTC',
        audience: 'AUDIENCE_PROFILES',
      },
    ],
    [
      'flattens any-groups inside none',
      {
        condition: {
          none: { conditions: [{ any: { conditions: [{ hasTag: 'b' }, { hasTag: 'a' }] } }] },
        },
      },
      {
        condition: { none: { conditions: [{ hasTag: 'a' }, { hasTag: 'b' }] } },
        timeZone: 'UTC',
        audience: 'AUDIENCE_PROFILES',
      },
    ],
    [
      'lower-cases operands of case-insensitive comparisons and sorts in-lists',
      {
        timeZone: 'europe/berlin',
        condition: { trait: { path: 'plan', in: ['Pro', 'team', 'pro'], caseInsensitive: true } },
      },
      {
        condition: { trait: { path: 'plan', caseInsensitive: true, in: ['pro', 'team'] } },
        timeZone: 'Europe/Berlin',
        audience: 'AUDIENCE_PROFILES',
      },
    ],
    [
      'turns weeks into days and sorts event filters',
      {
        condition: {
          event: {
            name: 'A',
            where: [
              { path: 'b', equals: 1 },
              { path: 'a', equals: 1 },
            ],
            count: { gt: 1 },
            window: { lastWeeks: 2 },
          },
        },
      },
      {
        condition: {
          event: {
            name: 'A',
            where: [
              { path: 'a', equals: 1 },
              { path: 'b', equals: 1 },
            ],
            window: { lastDays: 14 },
            count: { gt: 1 },
          },
        },
        timeZone: 'UTC',
        audience: 'AUDIENCE_PROFILES',
      },
    ],
  ])('%s', (_name, json, expected) => {
    expect(normalisedJson(json)).toEqual(expected);
  });

  it('keeps a single-child none group (it negates)', () => {
    expect(
      normalisedJson({ condition: { none: { conditions: [{ hasTag: 'x' }] } } }),
    ).toMatchObject({
      condition: { none: { conditions: [{ hasTag: 'x' }] } },
    });
  });

  const scenario = fc.constantFrom(...INTERESTING_STARTS).chain((base) =>
    fc.record({
      json: arbRuleJson({ base, depth: 3, distinctCap: 3 }),
      facts: arbFacts(base),
      arrivals: arbArrivals(base, { maxLength: 15 }),
      offsets: fc.array(fc.integer({ min: 0, max: 40 * 86_400_000 }), {
        minLength: 3,
        maxLength: 3,
      }),
    }),
  );

  it(`never changes a rule's meaning: same oracle and compiled values on random histories (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(scenario, ({ json, facts, arrivals, offsets }) => {
        const rule = ruleFromJson(json);
        const normalised = normaliseRule(rule);
        expect(validateRule({ rule: normalised, limits: TEST_LIMITS }).violations).toEqual([]);
        const events = arrivals.map((arrival) => arrival.event);
        const history = { ...facts, events };
        const state = stateAfter({ rule, events, init: facts, limits: TEST_LIMITS });
        const last = arrivals[arrivals.length - 1]?.arrivedAt ?? (INTERESTING_STARTS[0] as number);
        for (const offset of offsets) {
          const now = last + offset;
          const value = oracle({ rule, history, now, limits: TEST_LIMITS });
          expect(oracle({ rule: normalised, history, now, limits: TEST_LIMITS })).toBe(value);
          expect(compile({ rule: normalised, limits: TEST_LIMITS })(state, now)).toBe(value);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`is idempotent and keeps the state specs (same keys) (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(arbRuleJson({ depth: 3, distinctCap: 3 }), (json) => {
        const rule = ruleFromJson(json);
        const once = normaliseRule(rule);
        expect(equals(RuleSchema, normaliseRule(once), once)).toBe(true);
        const keys = (specs: ReturnType<typeof specsOf>) => specs.map((spec) => spec.key);
        expect(keys(specsOf({ rule: once, limits: TEST_LIMITS }))).toEqual(
          keys(specsOf({ rule, limits: TEST_LIMITS })),
        );
      }),
      { numRuns: RUNS },
    );
  });
});
