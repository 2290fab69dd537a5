import { fromJson } from '@bufbuild/protobuf';
import { RuleSchema, SegmentState, Visibility } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { eventChange } from '../../test/evaluation/scenario';
import { InMemoryPartitionStore } from '../../test/support/in-memory-partition-store';
import { RecordingEvents } from '../../test/support/recording-events';
import { dynamicSegment, newTestMembership, profileIn } from '../../test/support/test-membership';
import { MembershipErrorCode } from './membership.errors';

const ann: Principal = { subject: 'ann', groups: [], kind: 'user' };
const bob: Principal = { subject: 'bob', groups: [], kind: 'user' };
const ABORT = new AbortController().signal;

const buyers = dynamicSegment('seg_buyers', { event: { name: 'Order', count: { gte: 1 } } });
const secret = dynamicSegment(
  'seg_secret',
  { event: { name: 'Order', count: { gte: 1 } } },
  { visibility: Visibility.PRIVATE },
);

let changes = 0;
const order = (profileId: string, at: number) => {
  changes += 1;
  return eventChange(`c${changes}`, profileId, 'Order', at, { total: 10 });
};

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return (error as { reason?: string }).reason ?? String(error);
  }
}

describe('membership queries', () => {
  it('answers IsMember and GetProfileSegments from the working set', async () => {
    const m = await newTestMembership();
    m.definitions.apply([
      { segmentId: buyers.id, definition: buyers },
      { segmentId: secret.id, definition: secret },
    ]);
    const now = m.clock.now().getTime();
    await m.apply(order('user:ann-buyer', now));
    const [membership] = await m.queries.isMember(ann, 'user:ann-buyer', ['seg_buyers']);
    expect(membership).toMatchObject({ member: true, since: now, sequence: 1 });
    expect((await m.queries.isMember(ann, 'user:nobody', ['seg_buyers']))[0]?.member).toBe(false);
    // bob may not see ann's private segment: it is not among his answers
    expect(
      (await m.queries.profileSegments(bob, 'user:ann-buyer')).map((s) => s.segmentId),
    ).toEqual(['seg_buyers']);
    expect(
      (await m.queries.profileSegments(ann, 'user:ann-buyer')).map((s) => s.segmentId),
    ).toEqual(['seg_buyers', 'seg_secret']);
    await m.stop();
  });

  it('treats a segment the caller may not see exactly like one that does not exist', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: secret.id, definition: secret }]);
    expect(await reasonOf(m.queries.isMember(bob, 'user:x', ['seg_secret']))).toBe(
      MembershipErrorCode.SegmentNotFound,
    );
    expect(await reasonOf(m.queries.isMember(bob, 'user:x', ['seg_missing']))).toBe(
      MembershipErrorCode.SegmentNotFound,
    );
    expect(await reasonOf(m.queries.totals(bob, ['seg_secret']))).toBe(
      MembershipErrorCode.SegmentNotFound,
    );
    expect(await reasonOf(m.queries.isMember(ann, '', []))).toBe('INVALID_ARGUMENT');
    await m.stop();
  });

  it('reads the definitions topic to its end before calling a segment unknown, so one published a moment ago is found', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: buyers.id, definition: buyers }]);
    // known segments: answered without asking the topic
    await m.queries.isMember(ann, 'user:x', ['seg_buyers']);
    await m.queries.totals(ann, ['seg_buyers']);
    expect(m.catchUp.calls).toBe(0);

    // created a moment ago: its definition arrives while the question waits for the topic's end
    const fresh = dynamicSegment('seg_fresh', { event: { name: 'Order', count: { gte: 1 } } });
    m.catchUp.beforeAnswer = () => {
      m.definitions.apply([{ segmentId: fresh.id, definition: fresh }]);
      return true;
    };
    const answers = await m.queries.isMember(ann, 'user:x', ['seg_buyers', 'seg_fresh']);
    expect(answers.map((a) => [a.segmentId, a.member])).toEqual([
      ['seg_buyers', false],
      ['seg_fresh', false],
    ]);
    expect(m.catchUp.calls).toBe(1);

    // still unknown once the topic has been read (or it could not be read in time): NOT_FOUND
    m.catchUp.beforeAnswer = () => false;
    for (const asked of [
      m.queries.isMember(ann, 'user:x', ['seg_never']),
      m.queries.totals(ann, ['seg_never']),
      m.queries.explain(ann, 'user:x', 'seg_never'),
      (async () => {
        for await (const page of m.queries.members(ann, 'seg_never', undefined, ABORT)) void page;
      })(),
    ])
      expect(await reasonOf(asked)).toBe(MembershipErrorCode.SegmentNotFound);
    expect(m.catchUp.calls).toBe(5);

    // a segment it knows but the caller may not see is NOT_FOUND at once, without waiting
    m.definitions.apply([{ segmentId: secret.id, definition: secret }]);
    expect(await reasonOf(m.queries.isMember(bob, 'user:x', ['seg_secret']))).toBe(
      MembershipErrorCode.SegmentNotFound,
    );
    expect(m.catchUp.calls).toBe(5);
    await m.stop();
  });

  it('refuses a profile id longer than any profile id, naming the field, before reading state', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: buyers.id, definition: buyers }]);
    const long = 'u'.repeat(300_000);
    const fieldsOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'answered',
        (error: { reason?: string; violations?: { field: string }[] }) =>
          `${error.reason} ${error.violations?.map((v) => v.field).join(',')}`,
      );
    expect(await fieldsOf(m.queries.profileSegments(ann, long))).toBe('INVALID_ARGUMENT profileId');
    expect(await fieldsOf(m.queries.isMember(ann, long, ['seg_buyers']))).toBe(
      'INVALID_ARGUMENT profileId',
    );
    expect(await fieldsOf(m.queries.explain(ann, long, 'seg_buyers'))).toBe(
      'INVALID_ARGUMENT profileId',
    );
    await m.stop();
  });

  it('answers for a partition another instance owns from the stored read model', async () => {
    const store = new InMemoryPartitionStore();
    const events = new RecordingEvents(() => 0);
    const first = await newTestMembership({ owned: [0], store, events });
    const second = await newTestMembership({ owned: [1], store, events });
    for (const m of [first, second])
      m.definitions.apply([{ segmentId: buyers.id, definition: buyers }]);
    const remote = profileIn(1, 2, 'remote');
    await second.apply(order(remote, second.clock.now().getTime()));
    await second.checkpoint();
    const [membership] = await first.queries.isMember(ann, remote, ['seg_buyers']);
    expect(membership?.member).toBe(true);
    const pages = [];
    for await (const page of first.queries.members(ann, 'seg_buyers', undefined, ABORT))
      pages.push(page);
    expect(pages).toEqual([{ partition: 1, profileIds: [remote] }]);
    const [totals] = await first.queries.totals(ann, ['seg_buyers']);
    expect(totals).toMatchObject({ memberCount: 1, complete: true, state: SegmentState.READY });
    await first.stop();
    await second.stop();
  });

  it('lists members in (partition, id) order and resumes after a cursor', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: buyers.id, definition: buyers }]);
    const now = m.clock.now().getTime();
    const ids = [profileIn(0, 2, 'a'), profileIn(0, 2, 'b'), profileIn(1, 2, 'c')];
    for (const id of ids) await m.apply(order(id, now));
    const all = [];
    for await (const page of m.queries.members(ann, 'seg_buyers', undefined, ABORT))
      all.push(...page.profileIds.map((id) => `${page.partition}:${id}`));
    expect(all).toEqual([`0:${ids[0]}`, `0:${ids[1]}`, `1:${ids[2]}`]);
    const rest = [];
    for await (const page of m.queries.members(
      ann,
      'seg_buyers',
      { partition: 0, profileId: ids[0] as string },
      ABORT,
    ))
      rest.push(...page.profileIds);
    expect(rest).toEqual([ids[1], ids[2]]);
    await m.stop();
  });

  it('explains why a profile is a member, condition by condition', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: buyers.id, definition: buyers }]);
    await m.apply(order('user:explained', m.clock.now().getTime()));
    const answer = await m.queries.explain(ann, 'user:explained', 'seg_buyers');
    expect(answer.membership.member).toBe(true);
    expect(answer.explanation.matched).toBe(true);
    expect(answer.explanation.condition?.summary).toBe(
      'count of Order over all time = 1 (needs ≥ 1)',
    );
    await m.stop();
  });
});

describe('preview of a rule being written', () => {
  it('counts exactly over the working set when every state it needs is kept', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: buyers.id, definition: buyers }]);
    const now = m.clock.now().getTime();
    for (const name of ['p1', 'p2', 'p3']) await m.apply(order(`user:${name}`, now));
    const result = await m.previews.preview(
      ann,
      fromJson(RuleSchema, { condition: { event: { name: 'Order', count: { gte: 1 } } } }),
      2,
      ABORT,
    );
    expect(result).toMatchObject({ estimatedCount: 3, exact: true, profilesEvaluated: 3 });
    expect(result.sample).toHaveLength(2);
    await m.stop();
  });

  it('estimates from history when the rule needs an aggregate no segment keeps', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: buyers.id, definition: buyers }]);
    const now = m.clock.now().getTime();
    await m.apply(order('user:big', now), order('user:big', now), order('user:small', now));
    const result = await m.previews.preview(
      ann,
      fromJson(RuleSchema, {
        condition: { event: { name: 'Order', sum: { property: 'total', gte: 20 } } },
      }),
      0,
      ABORT,
    );
    expect(result.estimatedCount).toBe(1);
    expect(result.exact).toBe(false);
    expect(result.sample).toEqual(['user:big']);
    expect(result.notes.join(' ')).toMatch(/event history/);
    await m.stop();
  });

  it('refuses an invalid rule with the path of every problem, and references it may not see', async () => {
    const m = await newTestMembership();
    m.definitions.apply([{ segmentId: secret.id, definition: secret }]);
    const refused = m.previews.preview(
      bob,
      fromJson(RuleSchema, {
        condition: {
          all: {
            conditions: [
              { inSegment: 'seg_secret' },
              { event: { name: 'Order', count: { gte: 1 }, window: { lastDays: 5000 } } },
            ],
          },
        },
      }),
      0,
      ABORT,
    );
    const violations = await refused.catch(
      (error: { violations: { field: string }[] }) => error.violations,
    );
    expect((violations as { field: string }[]).map((v) => v.field)).toEqual([
      'rule.condition.all.conditions[1].event.window.lastDays',
      'rule.condition.all.conditions[0].inSegment',
    ]);
    await m.stop();
  });
});
