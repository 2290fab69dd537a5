import { create, fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { RuleSchema, SegmentKind, SegmentSchema, type Segment } from '@shoal/contracts';
import * as rules from '@shoal/rules';
import { eventChange, listChange, profileChange } from '../../test/evaluation/scenario';
import { SegmentCatalogue } from './segment-catalogue';
import { PartitionWorkingSet } from './working-set';

// The work a change costs, counted in (subject, segment) pairs evaluated and rules analysed:
// with many segments defined, a change must cost what the segments reading it cost, never a
// pass over every segment (docs/benchmarks.md, stage h).

jest.mock('@shoal/rules', () => {
  const actual = jest.requireActual<typeof rules>('@shoal/rules');
  return {
    ...actual,
    compileRule: jest.fn(actual.compileRule),
    validateRule: jest.fn(actual.validateRule),
    dependenciesOf: jest.fn(actual.dependenciesOf),
  };
});

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const STREAM = [
  'Order Completed',
  'Product Added',
  'Email Opened',
  'Content Viewed',
  'Page Viewed',
];
const DEPENDENT = 100;
const TOTAL = 10_000;

function segment(id: string, condition: JsonValue, version = 1n): Segment {
  return create(SegmentSchema, {
    id,
    kind: SegmentKind.DYNAMIC,
    version,
    rule: fromJson(RuleSchema, { condition }),
  });
}

/** Like the bench's wide run: counts, sums, recency, "never did" and traits over the stream. */
function streamCondition(i: number): JsonValue {
  const name = STREAM[i % STREAM.length] as string;
  const days = [7, 30, 90, 365][i % 4] as number;
  switch (i % 5) {
    case 0:
      return { event: { name, count: { gte: 1 + (i % 3) }, window: { lastDays: days } } };
    case 1:
      return {
        event: { name, sum: { property: 'total', gt: 100 + 10 * i }, window: { lastDays: days } },
      };
    case 2:
      return { event: { name, lastSeen: { withinLast: { days } } } };
    case 3:
      return { event: { name, count: { eq: 0 }, window: { lastDays: days } } };
    default:
      return {
        all: {
          conditions: [
            { trait: { path: 'plan', equals: 'pro' } },
            { event: { name, count: { gte: 1 } } },
          ],
        },
      };
  }
}

function wideDefinitions(): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < TOTAL; i += 1) {
    const unused = `Unused ${i}`;
    out.push(
      segment(
        `seg_w${i}`,
        i < DEPENDENT
          ? streamCondition(i)
          : i % 2 === 0
            ? { event: { name: unused, count: { gte: 1 }, window: { lastDays: 30 } } }
            : { event: { name: unused, lastSeen: { withinLast: { days: 7 } } } },
      ),
    );
  }
  // segments on segments: they follow the stream segments they reference
  out.push(segment('seg_ref_any', { inSegment: 'seg_w0' }));
  out.push(segment('seg_ref_ref', { inSegment: 'seg_ref_any' }));
  return out;
}

function workingSet(definitions: Segment[]): PartitionWorkingSet {
  const ws = new PartitionWorkingSet({ catalogue: SegmentCatalogue.empty() });
  ws.setCatalogue({
    catalogue: SegmentCatalogue.build({ definitions }),
    now: T0,
    backfill: ws.startBackfill([]),
  });
  return ws;
}

let n = 0;

function event(ws: PartitionWorkingSet, profileId: string, name: string, at: number) {
  n += 1;
  const properties: JsonObject = { total: 2_000 };
  return ws.applyProfileChange({
    change: eventChange(`w${n}`, profileId, name, at, properties),
    offset: n,
    now: at,
  });
}

/** Pairs evaluated by `act`. */
function pairsEvaluatedBy(ws: PartitionWorkingSet, act: () => unknown): number {
  const before = ws.pairEvaluations;
  act();
  return ws.pairEvaluations - before;
}

describe('the work of a change with 10,000 segments of which 100 read the stream', () => {
  const definitions = wideDefinitions();
  let ws: PartitionWorkingSet;

  beforeAll(() => {
    ws = workingSet(definitions);
  });

  it('evaluates only the segments reading the event, and those true for anyone, for a new profile', () => {
    // 20 segments read each stream event, 20 more ("never did") hold for a profile with nothing
    const work = pairsEvaluatedBy(ws, () => event(ws, 'new-1', 'Order Completed', T0 + 1));
    expect(work).toBeLessThanOrEqual(DEPENDENT);
    expect(work).toBeGreaterThanOrEqual(20);
  });

  it('evaluates only the segments reading the event for a profile it knows', () => {
    event(ws, 'known-1', 'Page Viewed', T0 + 1);
    const work = pairsEvaluatedBy(ws, () => event(ws, 'known-1', 'Email Opened', T0 + 2));
    expect(work).toBeLessThanOrEqual(20 + 2);
    expect(work).toBeGreaterThanOrEqual(20);
  });

  it('follows a membership change to the segments referencing it, and theirs', () => {
    const transitions = event(ws, 'ref-1', 'Order Completed', T0 + 3);
    expect(transitions.map((t) => t.segmentId)).toEqual(
      expect.arrayContaining(['seg_w0', 'seg_ref_any', 'seg_ref_ref']),
    );
  });

  it('evaluates only the timed segments a profile has data for when its timer fires', () => {
    const local = workingSet(definitions);
    event(local, 'timed-1', 'Content Viewed', T0);
    const due = local.nextTimerAt as number;
    expect(due).toBeGreaterThan(T0);
    const work = pairsEvaluatedBy(local, () => local.fireTimers(due));
    expect(work).toBeLessThanOrEqual(DEPENDENT);
    expect(work).toBeGreaterThan(0);
  });

  it('evaluates a new list member only against the segments reading the list and those true for anyone', () => {
    const work = pairsEvaluatedBy(ws, () =>
      ws.applyListChange({ change: listChange('list-1', 'vip', true, 1), offset: 1, now: T0 + 4 }),
    );
    expect(work).toBeLessThanOrEqual(DEPENDENT);
  });

  it('evaluates a new trait-only profile only against the segments reading its traits and those true for anyone', () => {
    n += 1;
    const work = pairsEvaluatedBy(ws, () =>
      ws.applyProfileChange({
        change: profileChange(`w${n}`, 'trait-1', {
          case: 'traitsChanged',
          value: { changes: [{ key: 'plan', value: fromJson(ValueSchema, 'pro') }] },
        } as never),
        offset: n,
        now: T0 + 5,
      }),
    );
    expect(work).toBeLessThanOrEqual(DEPENDENT);
  });

  it('does not evaluate an added segment for profiles that have nothing it reads', () => {
    const local = workingSet(definitions);
    for (let i = 0; i < 50; i += 1) event(local, `p${i}`, STREAM[i % 5] as string, T0 + i);
    const added = segment('seg_added', { event: { name: 'Never Sent', count: { gte: 1 } } });
    const work = pairsEvaluatedBy(local, () =>
      local.setCatalogue({
        catalogue: SegmentCatalogue.build({ definitions: [...definitions, added] }),
        now: T0 + DAY,
        backfill: local.startBackfill([]),
      }),
    );
    // the profiles' timers are not due yet, and nobody has a "Never Sent" event
    expect(work).toBe(0);
  });
});

describe('rules are analysed once per definition version', () => {
  it('builds the next catalogue without validating, compiling or analysing unchanged definitions again', () => {
    const definitions = wideDefinitions().slice(0, 1_000);
    const first = SegmentCatalogue.build({ definitions });
    const mocked = jest.mocked(rules);
    mocked.compileRule.mockClear();
    mocked.validateRule.mockClear();
    mocked.dependenciesOf.mockClear();

    const edited = segment('seg_w3', { event: { name: 'Page Viewed', count: { gte: 9 } } }, 2n);
    const next = SegmentCatalogue.build({
      definitions: [...definitions.filter((d) => d.id !== 'seg_w3'), edited],
    });

    expect(mocked.validateRule.mock.calls.length).toBeLessThanOrEqual(1);
    expect(mocked.compileRule.mock.calls.length).toBeLessThanOrEqual(1);
    expect(mocked.dependenciesOf.mock.calls.length).toBeLessThanOrEqual(1);
    expect(next.get('seg_w1')?.compiled).toBe(first.get('seg_w1')?.compiled);
    expect(next.get('seg_w3')?.version).toBe(2);
  });
});
