import { fromJson } from '@bufbuild/protobuf';
import { RuleSchema } from '@shoal/contracts';
import { dependenciesOf, validateRule } from '@shoal/rules';
import { percentiles } from './measures';
import {
  EventStream,
  STREAM_EVENTS,
  resolveReferences,
  seeded,
  segmentPlans,
  wideRule,
  zipf,
} from './workload';

const rule = (json: Parameters<typeof fromJson<typeof RuleSchema>>[1]) =>
  fromJson(RuleSchema, json);

describe('the bench workload', () => {
  it('makes every segment of the main run a valid rule, references resolved to ids', () => {
    const ids = new Map(
      ['vipList', ...segmentPlans(40).map((p) => p.key)].map((key) => [key, `seg_${key}`]),
    );
    const plans = segmentPlans(40);
    expect(plans).toHaveLength(40);
    expect(plans.filter((p) => p.scheduled)).toHaveLength(1);
    for (const plan of plans) {
      const resolved = resolveReferences(plan.rule, ids);
      expect(JSON.stringify(resolved)).not.toMatch(/"(inSegment|notInSegment|inList)":"(?!seg_)/);
      expect({ plan: plan.key, ...validateRule({ rule: rule(resolved) }) }).toEqual({
        plan: plan.key,
        valid: true,
        violations: [],
      });
    }
  });

  it('makes wide segments of which only the dependent ones name the stream’s events', () => {
    const named = (i: number) => [...dependenciesOf({ rule: rule(wideRule(i, 100)) }).events];
    for (const i of [0, 1, 2, 3, 4, 99]) {
      expect(named(i).every((name) => STREAM_EVENTS.includes(name))).toBe(true);
      expect(validateRule({ rule: rule(wideRule(i, 100)) }).valid).toBe(true);
    }
    for (const i of [100, 101, 9_999]) {
      expect(named(i)).toEqual([`Unused ${i}`]);
      expect(validateRule({ rule: rule(wideRule(i, 100)) }).valid).toBe(true);
    }
  });

  it('sends the same stream for the same seed, and another for another seed', () => {
    const take = (seed: number) => {
      const stream = new EventStream(1_000, 1, seed, () => Date.parse('2026-11-30T00:00:00Z'));
      return Array.from({ length: 50 }, () => stream.event().value);
    };
    expect(take(7)).toEqual(take(7));
    expect(take(7)).not.toEqual(take(8));
  });

  it('names every profile once in its first events when asked to cover them, then draws by Zipf', () => {
    const stream = new EventStream(100, 1, 7, () => Date.parse('2026-11-30T00:00:00Z'), 100);
    const keys = Array.from({ length: 400 }, () => stream.event().key);
    expect(keys.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, rank) => `u${rank}`));
    const rest = keys.slice(100);
    expect(rest.filter((key) => key === 'u0').length).toBeGreaterThan(
      rest.filter((key) => key === 'u99').length,
    );
  });

  it('draws low ranks far more often than high ones (Zipf)', () => {
    const draw = zipf(1_000, 1, seeded(3));
    const counts = new Array<number>(1_000).fill(0);
    for (let i = 0; i < 100_000; i++) counts[draw()] += 1;
    // with exponent 1 over 1,000 ranks, rank 0 has ~13% and rank 999 ~0.013%
    expect(counts[0]).toBeGreaterThan(11_000);
    expect(counts[0]).toBeLessThan(15_500);
    expect(counts[999]).toBeLessThan(60);
  });

  it('reads percentiles as the smallest value with at least that share at or below it', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(values, [0, 50, 99, 100])).toEqual({ p0: 1, p50: 50, p99: 99, p100: 100 });
    expect(percentiles([], [50]).p50).toBeNaN();
  });
});
