import {
  create,
  fromJson,
  type JsonObject,
  type JsonValue,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  Audience,
  ProfileChangeSchema,
  RefreshMode,
  RuleSchema,
  SegmentKind,
  SegmentSchema,
  SegmentStatus,
  TransitionCause,
  type Segment,
} from '@shoal/contracts';
import { eventChange, listChange, profileChange } from '../../test/evaluation/scenario';
import type { ProfileState } from './profile-state';
import { SegmentCatalogue } from './segment-catalogue';
import { transitionId } from './transition';
import { DEFAULT_WORKING_SET_OPTIONS, PartitionWorkingSet } from './working-set';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');

function segment(
  id: string,
  condition: JsonValue,
  extra: MessageInitShape<typeof SegmentSchema> = {},
): Segment {
  return create(SegmentSchema, {
    id,
    kind: SegmentKind.DYNAMIC,
    version: 1n,
    rule: fromJson(RuleSchema, { condition }),
    ...extra,
  });
}

/** A segment refreshed only when asked (MANUAL). */
const manual = (id: string, condition: JsonValue, extra: { status?: SegmentStatus } = {}) =>
  segment(id, condition, { refresh: { mode: RefreshMode.MANUAL }, ...extra });

const LOYAL_BUT_LAPSED = segment('seg_lapsed', {
  all: {
    conditions: [
      { event: { name: 'Order Completed', count: { gt: 1 } } },
      { event: { name: 'Page Viewed', count: { eq: 0 }, window: { lastDays: 40 } } },
      { event: { name: 'Order Completed', sum: { property: 'total', gt: 800 } } },
      { trait: { path: 'marketing_consent', equals: true } },
    ],
  },
});

function workingSet(...segments: Segment[]): PartitionWorkingSet {
  const ws = new PartitionWorkingSet({ catalogue: SegmentCatalogue.empty() });
  ws.setCatalogue({
    catalogue: SegmentCatalogue.build({ definitions: segments }),
    now: T0,
    backfill: ws.startBackfill([]),
  });
  return ws;
}

let changes = 0;
let offset = 0;

function event(
  ws: PartitionWorkingSet,
  profileId: string,
  name: string,
  at: number,
  properties: JsonObject = {},
) {
  changes += 1;
  offset += 1;
  return ws.applyProfileChange({
    change: eventChange(`c${changes}`, profileId, name, at, properties),
    offset,
    now: at,
  });
}

function traits(ws: PartitionWorkingSet, profileId: string, values: JsonObject, now: number) {
  changes += 1;
  offset += 1;
  return ws.applyProfileChange({
    change: profileChange(`c${changes}`, profileId, {
      case: 'traitsChanged',
      value: {
        changes: Object.entries(values).map(([key, value]) => ({
          key,
          value: fromJson(ValueSchema, value),
        })),
      } as never,
    }),
    offset,
    now,
  });
}

const summary = (transitions: readonly { kind: string; segmentId: string; cause: number }[]) =>
  transitions.map((t) => `${t.kind} ${t.segmentId} ${TransitionCause[t.cause]}`);

describe('the evaluation core', () => {
  it('enters the loyal-but-lapsed segment by time alone when 40 days pass without a visit', () => {
    const ws = workingSet(LOYAL_BUT_LAPSED);
    traits(ws, 'ann', { marketing_consent: true }, T0);
    event(ws, 'ann', 'Page Viewed', T0 + 1);
    event(ws, 'ann', 'Order Completed', T0 + 2, { total: 500 });
    expect(event(ws, 'ann', 'Order Completed', T0 + 3, { total: 400 })).toEqual([]);

    // the page view leaves the 40-day window (whole days in UTC) at the start of day 41
    const enters = Date.parse('2026-04-11T00:00:00Z');
    expect(ws.nextTimerAt).toBe(enters);
    expect(ws.fireTimers(enters - 1)).toEqual([]);
    const [entered] = ws.fireTimers(enters + 5_000);
    expect(entered).toMatchObject({
      profileId: 'ann',
      segmentId: 'seg_lapsed',
      kind: 'entered',
      at: enters,
      cause: TransitionCause.TIME,
      sequence: 1,
    });
  });

  it('exits when a new visit arrives, and the exit has the next sequence and its own id', () => {
    const ws = workingSet(LOYAL_BUT_LAPSED);
    traits(ws, 'bob', { marketing_consent: true }, T0);
    event(ws, 'bob', 'Order Completed', T0, { total: 900 });
    const [entered] = event(ws, 'bob', 'Order Completed', T0 + 1, { total: 1 });
    const [exited] = event(ws, 'bob', 'Page Viewed', T0 + DAY);
    expect(summary([entered!, exited!])).toEqual([
      'entered seg_lapsed EVENT',
      'exited seg_lapsed EVENT',
    ]);
    expect(exited?.sequence).toBe(2);
    expect(exited?.id).toBe(transitionId('bob', 'c' + (changes - 3), 'seg_lapsed', 2));
    expect(exited?.id).not.toBe(entered?.id);
  });

  it('fires a profile’s overdue timer before its next change, so its transitions stay in time order', () => {
    const ws = workingSet(
      segment('seg_recent', {
        event: { name: 'Visit', count: { gte: 1 }, window: { lastMinutes: 10 } },
      }),
    );
    event(ws, 'kim', 'Visit', T0);
    // no tick ran for half an hour (a busy partition fires a limited number of timers per step)
    const transitions = event(ws, 'kim', 'Visit', T0 + 30 * 60_000);
    expect(
      transitions.map((t) => `${t.kind} ${TransitionCause[t.cause]} +${(t.at - T0) / 60_000}m`),
    ).toEqual(['exited TIME +10m', 'entered EVENT +30m']);
  });

  it('evaluates only the segments a change can affect', () => {
    const byTrait = segment('seg_trait', { trait: { path: 'plan', equals: 'pro' } });
    const byEvent = segment('seg_event', { event: { name: 'Visit', count: { eq: 0 } } });
    const ws = workingSet(byTrait, byEvent);
    event(ws, 'cy', 'Other', T0);
    expect(ws.lastEvaluatedAt('seg_event')).toBe(T0);
    traits(ws, 'cy', { plan: 'pro' }, T0 + 1_000);
    expect(ws.lastEvaluatedAt('seg_trait')).toBe(T0 + 1_000);
    expect(ws.lastEvaluatedAt('seg_event')).toBe(T0);
  });

  it('re-evaluates segments that reference a segment whose membership changed, after it', () => {
    const vip = segment('seg_vip', { hasTag: 'vip' });
    const notVip = segment('seg_not_vip', { notInSegment: 'seg_vip' });
    const ws = workingSet(notVip, vip);
    changes += 1;
    offset += 1;
    const transitions = ws.applyProfileChange({
      change: profileChange(`c${changes}`, 'dee', {
        case: 'tagsChanged',
        value: { added: ['vip'], removed: [] } as never,
      }),
      offset,
      now: T0,
    });
    // a new profile is evaluated for every segment: vip first, then the segment reading it
    expect(summary(transitions)).toEqual(['entered seg_vip EVENT']);
    expect(ws.membersOf('seg_not_vip')?.has('dee') ?? false).toBe(false);
  });

  it('changes scheduled and manual segments only when they are refreshed', () => {
    const ws = workingSet(manual('seg_manual', { trait: { path: 'plan', equals: 'pro' } }));
    expect(traits(ws, 'eve', { plan: 'pro' }, T0)).toEqual([]);
    const refreshed = ws.refresh({ segmentId: 'seg_manual', now: T0 + 1 });
    expect(refreshed.entered).toBe(1);
    expect(summary(refreshed.transitions)).toEqual(['entered seg_manual REFRESH']);
  });

  it('drops a profile change it applied recently, even at a new offset', () => {
    const ws = workingSet(segment('seg_orders', { event: { name: 'Order', count: { gte: 2 } } }));
    const change = eventChange('same-id', 'fay', 'Order', T0, {});
    ws.applyProfileChange({ change, offset: 1, now: T0 });
    expect(ws.applyProfileChange({ change, offset: 2, now: T0 })).toEqual([]);
    expect(ws.profiles.get('fay')?.offsets.changes).toBe(1);
  });

  it('keeps the highest sequence of a static list and ignores older changes', () => {
    const ws = workingSet(segment('seg_list', { inList: 'list_beta' }));
    ws.applyListChange({ change: listChange('gus', 'list_beta', true, 2), offset: 1, now: T0 });
    expect(
      ws.applyListChange({ change: listChange('gus', 'list_beta', false, 1), offset: 2, now: T0 }),
    ).toEqual([]);
    expect(ws.membersOf('seg_list')?.has('gus')).toBe(true);
  });

  it('gives a profile seen again after its erasure new transition ids', () => {
    const ws = workingSet(segment('seg_any', { lacksTag: 'x' }));
    const [first] = event(ws, 'hal', 'Visit', T0);
    changes += 1;
    offset += 1;
    const [erased] = ws.applyProfileChange({
      change: profileChange(`c${changes}`, 'hal', { case: 'profileErased', value: {} as never }),
      offset,
      now: T0 + 1,
    });
    expect(erased).toMatchObject({ kind: 'exited', cause: TransitionCause.ERASE, sequence: 2 });
    expect(ws.profiles.has('hal')).toBe(false);
    const [again] = event(ws, 'hal', 'Visit', T0 + 2);
    expect(again?.sequence).toBe(1);
    expect(again?.id).not.toBe(first?.id);
  });

  it('exits everyone of a deleted segment with cause DELETED and frees its state', () => {
    const doomed = segment('seg_doomed', { lacksTag: 'x' });
    const ws = workingSet(doomed);
    event(ws, 'ida', 'Visit', T0);
    const transitions = ws.setCatalogue({ catalogue: SegmentCatalogue.empty(), now: T0 + 1 });
    expect(summary(transitions)).toEqual(['exited seg_doomed DELETED']);
    expect(ws.profiles.get('ida')?.pairs['seg_doomed']).toBeUndefined();
    expect(ws.takeCheckpoint().buckets.filter((b) => b.segmentId === 'seg_doomed')).toHaveLength(
      16,
    );
  });
});

describe('idle profiles kept packed', () => {
  const BUYERS = segment('seg_buyers', { event: { name: 'Order Completed', count: { gte: 2 } } });
  const people = Array.from({ length: 20 }, (_, i) => `p${i}`);

  function packedWorkingSet(hotProfiles: number): PartitionWorkingSet {
    const ws = new PartitionWorkingSet({
      catalogue: SegmentCatalogue.empty(),
      options: { ...DEFAULT_WORKING_SET_OPTIONS, hotProfiles },
    });
    ws.setCatalogue({
      catalogue: SegmentCatalogue.build({ definitions: [BUYERS] }),
      now: T0,
      backfill: ws.startBackfill([]),
    });
    for (const id of people) event(ws, id, 'Order Completed', T0, { total: 10 });
    ws.takeCheckpoint();
    return ws;
  }

  it('keeps only the most recently used profiles live after a checkpoint', () => {
    const ws = packedWorkingSet(3);
    expect(ws.profiles.size).toBe(20);
    expect(ws.profiles.liveCount).toBe(3);
  });

  it('continues a packed profile where it left off when its next event arrives', () => {
    const ws = packedWorkingSet(3);
    expect(summary(event(ws, 'p0', 'Order Completed', T0 + 1))).toEqual([
      'entered seg_buyers EVENT',
    ]);
    expect(ws.profiles.get('p0')?.pairs['seg_buyers']).toMatchObject({ seq: 1, member: true });
  });

  it('refreshes every profile while holding no more than the hot profiles live', () => {
    const ws = packedWorkingSet(3);
    for (const id of people) event(ws, id, 'Order Completed', T0 + 1);
    ws.takeCheckpoint();
    let mostLive = 0;
    const seen = new Set<string>();
    const ids = ws.profileIds();
    for (const id of ids) {
      ws.refresh({ segmentId: 'seg_buyers', now: T0 + 2, profileIds: [id] });
      mostLive = Math.max(mostLive, ws.profiles.liveCount);
      seen.add(id);
    }
    expect(seen.size).toBe(20);
    expect(mostLive).toBeLessThanOrEqual(4);
    expect(ws.memberCount('seg_buyers')).toBe(20);
    expect(ws.takeCheckpoint().states).toHaveLength(0);
  });

  describe('a refresh over packed profiles', () => {
    const PRO = manual('seg_pro', { trait: { path: 'plan', equals: 'pro' } });
    const NOT_VIP = manual('seg_not_vip', { lacksTag: 'vip' });
    const ENTERPRISE = manual('seg_enterprise', { trait: { path: 'plan', equals: 'enterprise' } });
    const GOLD = manual('seg_gold', { trait: { path: 'tier', equals: 'gold' } });
    const PAUSED = manual(
      'seg_paused',
      { trait: { path: 'tier', equals: 'gold' } },
      { status: SegmentStatus.INACTIVE },
    );
    const RECENT_VIEWERS = segment('seg_recent_viewers', {
      event: { name: 'Page Viewed', count: { gte: 1 }, window: { lastMinutes: 1 } },
    });

    /** p0-p3 have a plan (p0 and p2 pro) and p4 viewed a page, then p4-p19 ordered: p0-p16 are packed. */
    function withPlans(): PartitionWorkingSet {
      const ws = new PartitionWorkingSet({
        catalogue: SegmentCatalogue.empty(),
        options: { ...DEFAULT_WORKING_SET_OPTIONS, hotProfiles: 3 },
      });
      ws.setCatalogue({
        catalogue: SegmentCatalogue.build({
          definitions: [BUYERS, PRO, NOT_VIP, RECENT_VIEWERS, ENTERPRISE, GOLD, PAUSED],
        }),
        now: T0,
        backfill: ws.startBackfill([]),
      });
      ['pro', 'free', 'pro', 'free'].forEach((plan, i) => traits(ws, `p${i}`, { plan }, T0));
      event(ws, 'p4', 'Page Viewed', T0);
      for (const id of people.slice(4)) event(ws, id, 'Order Completed', T0, { total: 10 });
      ws.takeCheckpoint();
      return ws;
    }

    it('revives only the packed profiles holding something its segment reads', () => {
      const ws = withPlans();
      const revivals = ws.profiles.revivals;
      const outcome = ws.refresh({ segmentId: 'seg_pro', now: T0 + 1 });
      expect(summary(outcome.transitions)).toEqual([
        'entered seg_pro REFRESH',
        'entered seg_pro REFRESH',
      ]);
      expect(outcome.transitions.map((t) => t.profileId)).toEqual(['p0', 'p2']);
      expect(ws.profiles.revivals - revivals).toBe(4);
      expect(ws.takeCheckpoint().states.map((state) => state.id)).toEqual(['p0', 'p2']);
    });

    it('keeps the most recently used profiles live through a refresh reviving others', () => {
      const ws = withPlans();
      const revived = ws.profiles.revivals;
      ws.refresh({ segmentId: 'seg_enterprise', now: T0 + 1 });
      expect(ws.profiles.revivals - revived).toBe(4);
      const revivals = ws.profiles.revivals;
      for (const id of ['p17', 'p18', 'p19']) event(ws, id, 'Order Completed', T0 + 2);
      expect(ws.profiles.revivals - revivals).toBe(0);
    });

    it('revives every packed profile for a segment that a profile with nothing is in', () => {
      const ws = withPlans();
      const revivals = ws.profiles.revivals;
      const outcome = ws.refresh({ segmentId: 'seg_not_vip', now: T0 + 1 });
      expect(outcome.entered).toBe(20);
      expect(ws.profiles.revivals - revivals).toBeGreaterThanOrEqual(17);
    });

    it('records the refresh as an evaluation when it decided every profile while packed', () => {
      const ws = withPlans();
      const outcome = ws.refresh({ segmentId: 'seg_gold', now: T0 + 1, profileIds: ['p5', 'p6'] });
      expect(outcome.leftPacked).toBe(2);
      expect(ws.lastEvaluatedAt('seg_gold')).toBe(T0 + 1);
    });

    it('records no evaluation of an inactive segment it was asked to refresh', () => {
      const ws = withPlans();
      const outcome = ws.refresh({ segmentId: 'seg_paused', now: T0 + 1, profileIds: ['p5'] });
      expect(outcome.leftPacked).toBe(1);
      expect(ws.lastEvaluatedAt('seg_paused')).toBeUndefined();
    });

    it('fires the timer a packed profile has due before refreshing it', () => {
      const ws = withPlans();
      const outcome = ws.refresh({ segmentId: 'seg_pro', now: T0 + 2 * 60_000 });
      expect(
        outcome.transitions.map((t) => `${t.profileId} ${t.kind} ${t.segmentId}`).sort(),
      ).toEqual(['p0 entered seg_pro', 'p2 entered seg_pro', 'p4 exited seg_recent_viewers']);
    });
  });

  it('applies a rule change to every profile, packed ones included, within the hot profiles', () => {
    const ws = packedWorkingSet(3);
    const stricter = segment(
      'seg_buyers',
      { event: { name: 'Order Completed', count: { gte: 1 } } },
      { version: 2n },
    );
    const transitions = ws.setCatalogue({
      catalogue: SegmentCatalogue.build({ definitions: [stricter] }),
      now: T0 + 1,
    });
    expect(transitions).toHaveLength(20);
    expect(ws.profiles.liveCount).toBeLessThanOrEqual(4);
    expect(ws.memberCount('seg_buyers')).toBe(20);
    expect(
      ws
        .takeCheckpoint()
        .states.map((state) => state.id)
        .sort(),
    ).toEqual([...people].sort());
  });
});

function accountTraits(
  ws: PartitionWorkingSet,
  accountId: string,
  values: JsonObject,
  now: number,
  id = `a${(changes += 1)}`,
) {
  offset += 1;
  return ws.applyProfileChange({
    change: create(ProfileChangeSchema, {
      id,
      subjectId: accountId,
      accountId,
      change: {
        case: 'accountTraitsChanged',
        value: {
          changes: Object.entries(values).map(([key, value]) =>
            value === null ? { key } : { key, value: fromJson(ValueSchema, value) },
          ),
        },
      },
    }),
    offset,
    now,
  });
}

const ENTERPRISE = segment(
  'seg_enterprise',
  { trait: { path: 'plan', equals: 'enterprise' } },
  { audience: Audience.ACCOUNTS },
);

describe('account audiences', () => {
  it('enters and exits an account segment as the account traits change, keyed by the account id', () => {
    const ws = workingSet(ENTERPRISE);
    const [entered] = accountTraits(ws, 'acme', { plan: 'enterprise' }, T0);
    expect(entered).toMatchObject({
      profileId: 'acme',
      segmentId: 'seg_enterprise',
      kind: 'entered',
      cause: TransitionCause.EVENT,
      sequence: 1,
      at: T0,
    });
    const [exited] = accountTraits(ws, 'acme', { plan: null }, T0 + 1);
    expect(exited).toMatchObject({ profileId: 'acme', kind: 'exited', sequence: 2 });
    expect(exited?.id).not.toBe(entered?.id);
  });

  it('keeps an account apart from a profile of the same id and from profile segments', () => {
    const profilePlan = segment('seg_pro', { trait: { path: 'plan', equals: 'enterprise' } });
    const ws = workingSet(ENTERPRISE, profilePlan);
    expect(summary(traits(ws, 'acme', { plan: 'enterprise' }, T0))).toEqual([
      'entered seg_pro EVENT',
    ]);
    expect(summary(accountTraits(ws, 'acme', { plan: 'enterprise' }, T0))).toEqual([
      'entered seg_enterprise EVENT',
    ]);
    expect(summary(traits(ws, 'acme', { plan: 'free' }, T0 + 1))).toEqual(['exited seg_pro EVENT']);
    expect(ws.membersOf('seg_enterprise')?.has('acme')).toBe(true);
    expect(ws.membersOf('seg_pro')?.has('acme')).toBe(false);
    expect(ws.profiles.get('account:acme')?.state.traits).toEqual({ plan: 'enterprise' });
    expect(ws.profiles.get('acme')?.state.traits).toEqual({ plan: 'free' });
  });

  it('drops a re-published account change and one at or below the offset the account holds', () => {
    const ws = workingSet(ENTERPRISE);
    accountTraits(ws, 'acme', { plan: 'enterprise' }, T0, 'same');
    expect(accountTraits(ws, 'acme', { plan: null }, T0 + 1, 'same')).toEqual([]);
    const change = create(ProfileChangeSchema, {
      id: 'old',
      subjectId: 'acme',
      accountId: 'acme',
      change: { case: 'accountTraitsChanged', value: { changes: [{ key: 'plan' }] } },
    });
    expect(ws.applyProfileChange({ change, offset: 0, now: T0 + 2 })).toEqual([]);
    expect(ws.membersOf('seg_enterprise')?.has('acme')).toBe(true);
  });

  it('moves accounts by time alone with account timers', () => {
    const renewal = segment(
      'seg_renewal_due',
      { trait: { path: 'renews_at', before: { daysFromNow: 30 } } },
      { audience: Audience.ACCOUNTS },
    );
    const ws = workingSet(renewal);
    const renews = T0 + 100 * DAY;
    expect(accountTraits(ws, 'acme', { renews_at: new Date(renews).toISOString() }, T0)).toEqual(
      [],
    );
    const at = ws.nextTimerAt as number;
    expect(at).toBeGreaterThan(T0);
    const [entered] = ws.fireTimers(at + 500);
    expect(entered).toMatchObject({
      profileId: 'acme',
      kind: 'entered',
      cause: TransitionCause.TIME,
      at,
    });
    // "before 30 days from now" holds once now + 30 days passes the renewal date
    expect(at).toBe(renews - 30 * DAY + 1);
  });

  it('evaluates a new account segment for the accounts only, and an account segment referencing another', () => {
    const ws = workingSet();
    traits(ws, 'ann', { plan: 'enterprise' }, T0);
    accountTraits(ws, 'acme', { plan: 'enterprise', seats: 80 }, T0);
    const large = segment(
      'seg_large_enterprise',
      {
        all: {
          conditions: [{ inSegment: 'seg_enterprise' }, { trait: { path: 'seats', gt: 50 } }],
        },
      },
      { audience: Audience.ACCOUNTS },
    );
    const transitions = ws.setCatalogue({
      catalogue: SegmentCatalogue.build({ definitions: [ENTERPRISE, large] }),
      now: T0 + 1,
      backfill: ws.startBackfill([]),
    });
    expect(transitions.map((t) => `${t.kind} ${t.segmentId} ${t.profileId}`)).toEqual([
      'entered seg_enterprise acme',
      'entered seg_large_enterprise acme',
    ]);
  });

  it('evaluates account rules with contacts conditions instead of failing them', () => {
    const contacts = segment('seg_contacts', null, {
      audience: Audience.ACCOUNTS,
      rule: fromJson(RuleSchema, {
        audience: 'AUDIENCE_ACCOUNTS',
        condition: { contacts: { where: { hasTag: 'x' }, count: { gte: 1 } } },
      }),
    });
    const catalogue = SegmentCatalogue.build({ definitions: [contacts, ENTERPRISE] });
    expect(catalogue.failed.size).toBe(0);
    expect(catalogue.readingContacts).toEqual(['seg_contacts']);
    expect(catalogue.contactNeeds).toMatchObject({ tags: ['x'], traits: [] });
  });

  it('replays an account change onto a published transition without publishing it again', () => {
    const ws = workingSet(ENTERPRISE);
    const checkpoint = ws.takeCheckpoint();
    const published = accountTraits(ws, 'acme', { plan: 'enterprise' }, T0, 'x1');
    const restarted = new PartitionWorkingSet({
      catalogue: SegmentCatalogue.build({ definitions: [ENTERPRISE] }),
    });
    restarted.load([], checkpoint.applied);
    restarted.installLedger(published);
    offset -= 1;
    expect(accountTraits(restarted, 'acme', { plan: 'enterprise' }, T0 + 5, 'x1')).toEqual([]);
    expect(restarted.settleLedger(T0 + 6)).toEqual([]);
    expect(restarted.profiles.get('account:acme')?.pairs['seg_enterprise']).toMatchObject({
      seq: 1,
      member: true,
      since: T0,
    });
  });
});

describe('replay after a crash', () => {
  /** A working set with one member, checkpointed; then more transitions that are published but not checkpointed. */
  function crashedAfterPublishing() {
    const ws = workingSet(segment('seg_orders', { event: { name: 'Order', count: { gte: 1 } } }));
    const visit = eventChange('v1', 'jan', 'Visit', T0, {});
    ws.applyProfileChange({ change: visit, offset: 1, now: T0 });
    const checkpoint = ws.takeCheckpoint();
    const stored = JSON.parse(JSON.stringify(checkpoint.states)) as ProfileState[];
    const order = eventChange('o1', 'jan', 'Order', T0 + 1, {});
    const published = ws.applyProfileChange({ change: order, offset: 2, now: T0 + 1 });
    const restarted = new PartitionWorkingSet({
      catalogue: SegmentCatalogue.build({
        definitions: [segment('seg_orders', { event: { name: 'Order', count: { gte: 1 } } })],
      }),
    });
    restarted.load(stored, checkpoint.applied);
    return { restarted, published, order };
  }

  it('takes over a transition already published instead of publishing it again', () => {
    const { restarted, published, order } = crashedAfterPublishing();
    restarted.installLedger(published);
    expect(restarted.applyProfileChange({ change: order, offset: 2, now: T0 + 60_000 })).toEqual(
      [],
    );
    const pair = restarted.profiles.get('jan')?.pairs['seg_orders'];
    expect(pair).toMatchObject({ seq: 1, member: true, since: T0 + 1 });
    expect(restarted.settleLedger(T0 + 60_000)).toEqual([]);
  });

  it('settles after a replay that passed published transitions the checkpoint already held', () => {
    const { restarted, published, order } = crashedAfterPublishing();
    restarted.applyProfileChange({ change: order, offset: 2, now: T0 + 1 });
    // the profile's state was written after its transition was published (an interrupted
    // checkpoint wrote this document, not the partition's), so the ledger repeats what it holds
    restarted.installLedger(published);
    const erase = profileChange('e1', 'jan', { case: 'profileErased', value: {} as never });
    const [exited] = restarted.applyProfileChange({ change: erase, offset: 3, now: T0 + 2 });
    expect(exited).toMatchObject({ kind: 'exited', sequence: 2 });
    expect(restarted.settleLedger(T0 + 3)).toEqual([]);
  });

  it('adopts a published transition the replay did not reach, then corrects it if it no longer holds', () => {
    const { restarted, published } = crashedAfterPublishing();
    restarted.installLedger(published);
    // the order record is gone from the replay (e.g. it was a re-publication now dropped)
    const corrections = restarted.settleLedger(T0 + 60_000);
    expect(summary(corrections)).toEqual(['exited seg_orders TIME']);
    expect(corrections[0]?.sequence).toBe(2);
  });
});

describe('the value sum of a segment naming a value trait', () => {
  const PRO = { trait: { path: 'plan', equals: 'pro' } };
  const valued = (valueTrait: string, version = 1n) =>
    segment('seg_pro', PRO, { valueTrait, version });
  const figures = (ws: PartitionWorkingSet) => {
    const members = ws.membersOf('seg_pro');
    return { members: members?.size, sum: members?.valueSum, valued: members?.valuedCount };
  };

  it('adds a member’s value on entry and takes out exactly that value on exit', () => {
    const ws = workingSet(valued('ltv'));
    traits(ws, 'ann', { plan: 'pro', ltv: 0.1 }, T0);
    traits(ws, 'bob', { plan: 'pro', ltv: 0.2 }, T0);
    expect(figures(ws)).toEqual({ members: 2, sum: 0.1 + 0.2, valued: 2 });
    // the exit carries a new value: the one ann was counted with is taken out, exactly
    expect(summary(traits(ws, 'ann', { plan: 'free', ltv: 99 }, T0 + 1))).toEqual([
      'exited seg_pro EVENT',
    ]);
    expect(figures(ws)).toEqual({ members: 1, sum: 0.2, valued: 1 });
    expect(ws.profiles.get('ann')?.pairs['seg_pro']?.value).toBeUndefined();
  });

  it('counts the value a profile already had when a change of another trait makes it enter', () => {
    const ws = workingSet(valued('ltv'));
    traits(ws, 'ann', { plan: 'free', ltv: 1000 }, T0);
    expect(summary(traits(ws, 'ann', { plan: 'pro' }, T0 + 1))).toEqual(['entered seg_pro EVENT']);
    expect(figures(ws)).toEqual({ members: 1, sum: 1000, valued: 1 });
  });

  it('moves the sum by the difference when a member’s value changes, and not for others', () => {
    const ws = workingSet(valued('account.ltv'));
    traits(ws, 'ann', { plan: 'pro', account: { ltv: 10 } }, T0);
    traits(ws, 'bob', { plan: 'free', account: { ltv: 1000 } }, T0);
    expect(traits(ws, 'ann', { account: { ltv: 12.5 } }, T0 + 1)).toEqual([]);
    traits(ws, 'bob', { account: { ltv: 2000 } }, T0 + 1);
    expect(figures(ws)).toEqual({ members: 1, sum: 12.5, valued: 1 });
    expect(ws.profiles.get('ann')?.pairs['seg_pro']?.value).toBe(12.5);
  });

  it('counts missing and non-numeric values as absent: members, but not in the sum', () => {
    const ws = workingSet(valued('ltv'));
    traits(ws, 'ann', { plan: 'pro', ltv: 7 }, T0);
    traits(ws, 'bob', { plan: 'pro', ltv: '7' }, T0);
    traits(ws, 'cid', { plan: 'pro' }, T0);
    traits(ws, 'dee', { plan: 'pro', ltv: [1, 2] }, T0);
    expect(figures(ws)).toEqual({ members: 4, sum: 7, valued: 1 });
    // a value that stops being a number leaves the sum, one that becomes one joins it
    traits(ws, 'ann', { ltv: 'n/a' }, T0 + 1);
    traits(ws, 'cid', { ltv: 3 }, T0 + 1);
    expect(figures(ws)).toEqual({ members: 4, sum: 3, valued: 1 });
  });

  it('takes the values out of the sum when a member is erased', () => {
    const ws = workingSet(valued('ltv'));
    traits(ws, 'ann', { plan: 'pro', ltv: 7 }, T0);
    traits(ws, 'bob', { plan: 'pro', ltv: 5 }, T0);
    const erase = profileChange('erase-ann', 'ann', { case: 'profileErased', value: {} as never });
    ws.applyProfileChange({ change: erase, offset: (offset += 1), now: T0 + 1 });
    expect(figures(ws)).toEqual({ members: 1, sum: 5, valued: 1 });
  });

  it('keeps the same sum after a restart and a replay of the changes since the checkpoint', () => {
    const definitions = [valued('ltv')];
    const ws = workingSet(...definitions);
    const change = (id: string, profileId: string, values: JsonObject) =>
      profileChange(id, profileId, {
        case: 'traitsChanged',
        value: {
          changes: Object.entries(values).map(([key, value]) => ({
            key,
            value: fromJson(ValueSchema, value),
          })),
        } as never,
      });
    ws.applyProfileChange({
      change: change('r1', 'ann', { plan: 'pro', ltv: 0.1 }),
      offset: 1,
      now: T0,
    });
    ws.applyProfileChange({
      change: change('r2', 'bob', { plan: 'pro', ltv: 0.7 }),
      offset: 2,
      now: T0,
    });
    const checkpoint = ws.takeCheckpoint();
    const stored = JSON.parse(JSON.stringify(checkpoint.states)) as ProfileState[];
    const after = [
      change('r3', 'ann', { ltv: 0.3 }),
      change('r4', 'bob', { plan: 'free' }),
      change('r5', 'cid', { plan: 'pro', ltv: 0.2 }),
    ];
    const published = after.flatMap((c, i) =>
      ws.applyProfileChange({ change: c, offset: 3 + i, now: T0 + 1 }),
    );
    const live = figures(ws);
    expect(live).toEqual({ members: 2, sum: 0.3 + 0.2, valued: 2 });

    // a crash lost everything after the checkpoint: the restart replays from it, and replays the
    // already-applied records again (at-least-once), which change nothing
    const restarted = new PartitionWorkingSet({
      catalogue: SegmentCatalogue.build({ definitions }),
    });
    restarted.load(stored, checkpoint.applied);
    expect(figures(restarted)).toEqual({ members: 2, sum: 0.1 + 0.7, valued: 2 });
    restarted.installLedger(published);
    for (const [i, c] of after.entries())
      restarted.applyProfileChange({ change: c, offset: 3 + i, now: T0 + 2 });
    for (const [i, c] of after.entries())
      restarted.applyProfileChange({ change: c, offset: 3 + i, now: T0 + 3 });
    expect(restarted.settleLedger(T0 + 4)).toEqual([]);
    expect(figures(restarted)).toEqual(live);
  });

  it('counts every member with the new trait’s value when the value trait is set or changed', () => {
    const ws = workingSet(segment('seg_pro', PRO));
    traits(ws, 'ann', { plan: 'pro', ltv: 4, orders: 2 }, T0);
    traits(ws, 'bob', { plan: 'pro', ltv: 6 }, T0);
    expect(figures(ws)).toEqual({ members: 2, sum: 0, valued: 0 });
    const apply = (definition: Segment, now: number) =>
      ws.setCatalogue({
        catalogue: SegmentCatalogue.build({ definitions: [definition] }),
        now,
        backfill: ws.startBackfill([]),
      });
    expect(apply(valued('ltv', 2n), T0 + 1)).toEqual([]);
    expect(figures(ws)).toEqual({ members: 2, sum: 10, valued: 2 });
    apply(valued('orders', 3n), T0 + 2);
    expect(figures(ws)).toEqual({ members: 2, sum: 2, valued: 1 });
    apply(valued('', 4n), T0 + 3);
    expect(figures(ws)).toEqual({ members: 2, sum: 0, valued: 0 });
    expect(ws.profiles.get('ann')?.pairs['seg_pro']?.value).toBeUndefined();
  });
});
