import { create, fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  ListMembershipChangedSchema,
  ProfileChangeSchema,
  RefreshMode,
  ReentryMode,
  RuleSchema,
  SegmentKind,
  SegmentSchema,
  SegmentStatus,
  type ProfileChange,
  type Segment,
} from '@shoal/contracts';
import fc from 'fast-check';

// Random segment definitions and random streams of what happens to profiles, in a small
// vocabulary so that events, thresholds and windows meet often. Operations refer to profiles
// and segments by index; the driver resolves them against what exists at that point.

const DAY = 86_400_000;
const HOUR = 3_600_000;

export const PROFILES = ['p0', 'p1', 'p2', 'p3', 'p4'] as const;
export const LISTS = ['list_a', 'list_b'] as const;
export const SEGMENT_SLOTS = 5;
const TAGS = ['vip', 'churn'] as const;
const EVENTS = ['Order', 'Visit', 'Email', 'Cart'] as const;
const ZONES = ['UTC', 'America/New_York'] as const;

export function segmentId(slot: number): string {
  return `seg_${slot}`;
}

// ---- rules ----------------------------------------------------------------------------------

const windowJson: fc.Arbitrary<JsonObject | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 20 }).map((n) => ({ lastDays: n })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 48 }).map((n) => ({ lastHours: n })) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 600 }).map((n) => ({ lastMinutes: n })) },
  { weight: 1, arbitrary: fc.constant({ calendar: { month: 0 } }) },
);

const withWindow = (event: JsonObject, window: JsonObject | undefined): JsonObject =>
  window === undefined ? event : { ...event, window };

function leaf(slot: number): fc.Arbitrary<JsonValue> {
  const references =
    slot === 0
      ? []
      : [
          fc.tuple(fc.nat(slot - 1), fc.boolean()).map(([target, negate]) => ({
            [negate ? 'notInSegment' : 'inSegment']: segmentId(target),
          })),
        ];
  return fc.oneof(
    fc.constantFrom('pro', 'free').map((plan) => ({ trait: { path: 'plan', equals: plan } })),
    fc.integer({ min: 0, max: 100 }).map((n) => ({ trait: { path: 'score', gt: n } })),
    fc
      .tuple(fc.constantFrom(...EVENTS), fc.constantFrom('gte', 'eq', 'lt'), fc.nat(3), windowJson)
      .map(([name, op, n, window]) => ({
        event: withWindow({ name, count: { [op]: n } }, window),
      })),
    fc.tuple(fc.integer({ min: 0, max: 600 }), windowJson).map(([n, window]) => ({
      event: withWindow({ name: 'Order', sum: { property: 'total', gt: n } }, window),
    })),
    fc
      .tuple(fc.constantFrom(...EVENTS), fc.integer({ min: 1, max: 40 }), fc.boolean())
      .map(([name, days, before]): JsonValue => ({
        event: {
          name,
          lastSeen: before ? { before: { daysAgo: days } } : { withinLast: { days } },
        },
      })),
    fc.integer({ min: 1, max: 72 }).map((hours) => ({
      event: { name: 'Order', firstSeen: { withinLast: { hours } } },
    })),
    fc
      .tuple(fc.constantFrom(...TAGS), fc.boolean())
      .map(([tag, has]) => ({ [has ? 'hasTag' : 'lacksTag']: tag })),
    fc
      .tuple(fc.constantFrom(...LISTS), fc.boolean())
      .map(([list, on]) => ({ [on ? 'inList' : 'notInList']: list })),
    fc
      .tuple(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 20 }))
      .map(([hours, days]) => ({
        sequence: {
          steps: [{ event: 'Cart' }],
          notFollowedBy: { event: 'Order', within: { hours } },
          window: { lastDays: days },
        },
      })),
    ...references,
  );
}

function conditionJson(slot: number, depth: number): fc.Arbitrary<JsonValue> {
  if (depth === 0) return leaf(slot);
  return fc.oneof(
    { weight: 3, arbitrary: leaf(slot) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom('all', 'any', 'any', 'none'),
          fc.array(conditionJson(slot, depth - 1), { minLength: 1, maxLength: 2 }),
        )
        .map(([group, conditions]) => ({ [group]: { conditions } })),
    },
  );
}

export interface SegmentSpec {
  readonly condition: JsonValue;
  readonly timeZone: string;
  readonly mode: RefreshMode;
  readonly active: boolean;
  readonly reentry: 'every' | 'once' | 'coolDown';
  readonly coolDownHours: number;
}

function segmentSpec(slot: number): fc.Arbitrary<SegmentSpec> {
  return fc.record({
    condition: conditionJson(slot, 2),
    timeZone: fc.constantFrom(...ZONES),
    mode: fc.oneof(
      { weight: 6, arbitrary: fc.constant(RefreshMode.REALTIME) },
      { weight: 1, arbitrary: fc.constant(RefreshMode.MANUAL) },
      { weight: 1, arbitrary: fc.constant(RefreshMode.SCHEDULED) },
    ),
    active: fc.oneof(
      { weight: 6, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    reentry: fc.oneof(
      { weight: 4, arbitrary: fc.constant('every' as const) },
      { weight: 1, arbitrary: fc.constant('once' as const) },
      { weight: 1, arbitrary: fc.constant('coolDown' as const) },
    ),
    coolDownHours: fc.integer({ min: 1, max: 72 }),
  });
}

export function segmentDefinition(slot: number, spec: SegmentSpec, version: number): Segment {
  return create(SegmentSchema, {
    id: segmentId(slot),
    name: `segment ${slot}`,
    kind: SegmentKind.DYNAMIC,
    rule: fromJson(RuleSchema, { condition: spec.condition, timeZone: spec.timeZone }),
    refresh: { mode: spec.mode },
    reentry:
      spec.reentry === 'every'
        ? { mode: ReentryMode.EVERY_TIME }
        : spec.reentry === 'once'
          ? { mode: ReentryMode.ONCE }
          : {
              mode: ReentryMode.COOL_DOWN,
              coolDown: { length: { case: 'hours', value: spec.coolDownHours } },
            },
    status: spec.active ? SegmentStatus.ACTIVE : SegmentStatus.INACTIVE,
    version: BigInt(version),
  });
}

export function listDefinition(list: string): Segment {
  return create(SegmentSchema, {
    id: list,
    name: list,
    kind: SegmentKind.STATIC_LIST,
    version: 1n,
  });
}

// ---- operations -----------------------------------------------------------------------------

export type Operation =
  | { kind: 'event'; profile: number; name: number; total: number; lateness: number }
  | { kind: 'trait'; profile: number; key: 'plan' | 'score'; value: JsonValue | undefined }
  | { kind: 'tag'; profile: number; tag: number; add: boolean }
  | { kind: 'list'; profile: number; list: number; member: boolean; stale: boolean }
  | { kind: 'duplicate'; profile: number }
  | { kind: 'merge'; survivor: number; absorbed: number }
  | { kind: 'erase'; profile: number }
  | { kind: 'define'; slot: number; spec: SegmentSpec }
  | { kind: 'delete'; slot: number }
  | { kind: 'refresh'; slot: number }
  | { kind: 'deleteList'; list: number };

export interface Step {
  readonly advance: number;
  readonly operation: Operation;
  /** Instants between the previous step and this one at which membership is compared, as fractions. */
  readonly samples: readonly number[];
}

const profile = fc.nat(PROFILES.length - 1);

const advance = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 6 * HOUR }) },
  { weight: 4, arbitrary: fc.integer({ min: 6 * HOUR, max: 3 * DAY }) },
  { weight: 1, arbitrary: fc.integer({ min: 3 * DAY, max: 45 * DAY }) },
);

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      profile,
      name: fc.nat(EVENTS.length - 1),
      total: fc.integer({ min: 0, max: 400 }),
      lateness: fc.oneof(
        { weight: 5, arbitrary: fc.constant(0) },
        { weight: 2, arbitrary: fc.integer({ min: 1, max: 10 * DAY }) },
        { weight: 1, arbitrary: fc.integer({ min: -2 * HOUR, max: -1 }) },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant('trait' as const),
        profile,
        key: fc.constant('plan' as const),
        value: fc.constantFrom<JsonValue | undefined>('pro', 'free', undefined),
      }),
      fc.record({
        kind: fc.constant('trait' as const),
        profile,
        key: fc.constant('score' as const),
        value: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(undefined)),
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('tag' as const),
      profile,
      tag: fc.nat(TAGS.length - 1),
      add: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('list' as const),
      profile,
      list: fc.nat(LISTS.length - 1),
      member: fc.boolean(),
      stale: fc.oneof(
        { weight: 5, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), profile }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('merge' as const),
      survivor: profile,
      absorbed: profile,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase' as const), profile }) },
  {
    weight: 2,
    arbitrary: fc.nat(SEGMENT_SLOTS - 1).chain((slot) =>
      fc.record({
        kind: fc.constant('define' as const),
        slot: fc.constant(slot),
        spec: segmentSpec(slot),
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), slot: fc.nat(SEGMENT_SLOTS - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('refresh' as const),
      slot: fc.nat(SEGMENT_SLOTS - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteList' as const),
      list: fc.nat(LISTS.length - 1),
    }),
  },
);

export interface Scenario {
  readonly start: number;
  readonly segments: readonly (SegmentSpec | null)[];
  readonly steps: readonly Step[];
}

/** Instants near which scenarios start: DST changes in New York, a month end. */
const STARTS = ['2024-03-09T12:00:00Z', '2024-10-31T20:00:00Z', '2024-06-15T00:00:00Z'].map(
  (text) => Date.parse(text),
);

export function arbScenario({ maxSteps }: { maxSteps: number }): fc.Arbitrary<Scenario> {
  return fc.record({
    start: fc.constantFrom(...STARTS),
    segments: fc.tuple(
      ...Array.from({ length: SEGMENT_SLOTS }, (_, slot) =>
        fc.option(segmentSpec(slot), { freq: 3, nil: null }),
      ),
    ),
    steps: fc.array(
      fc.record({
        advance,
        operation,
        samples: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 2 }),
      }),
      { minLength: Math.min(20, maxSteps), maxLength: maxSteps, size: 'max' },
    ),
  });
}

// ---- records --------------------------------------------------------------------------------

export const EVENT_NAMES = EVENTS;
export const TAG_NAMES = TAGS;

export function eventChange(
  id: string,
  profileId: string,
  name: string,
  occurredAt: number,
  properties: JsonObject,
): ProfileChange {
  return create(ProfileChangeSchema, {
    id,
    subjectId: profileId,
    profileId,
    occurredAt: timestampFromMs(occurredAt),
    change: { case: 'eventRecorded', value: { name, properties } },
  });
}

export function profileChange(
  id: string,
  profileId: string,
  change: ProfileChange['change'],
): ProfileChange {
  return create(ProfileChangeSchema, { id, subjectId: profileId, profileId, change });
}

export function listChange(memberId: string, listId: string, member: boolean, sequence: number) {
  return create(ListMembershipChangedSchema, {
    listId,
    memberId,
    member,
    sequence: BigInt(sequence),
  });
}
