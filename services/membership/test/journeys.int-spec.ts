import { fromJson } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  MembershipService,
  RuleSchema,
  SegmentState,
  TransitionCause,
  TransitionKind,
  Visibility,
} from '@shoal/contracts';
import {
  CATCH_UP_TIMEOUT_MS,
  GrpcCallError,
  type GrpcClient,
  type RunningService,
} from '@shoal/platform';
import { TestScope, eventually } from '@shoal/testing';
import { PRODUCT_EXAMPLES } from '@shoal/rules/testing';
import { MembershipHarness } from './membership-harness';
import { startMembership } from './membership-service';
import type { MovableClock } from './test-clock';

const DAY = 86_400_000;

async function codeOf(call: Promise<unknown>): Promise<status | 'OK'> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    return error instanceof GrpcCallError ? error.code : status.UNKNOWN;
  }
}

/** The product examples and the definition, merge and erasure journeys, asked over gRPC. */
describe('membership journeys over gRPC', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  let service: RunningService;
  let clock: MovableClock;
  let ann: GrpcClient<typeof MembershipService>;
  let bob: GrpcClient<typeof MembershipService>;

  beforeAll(async () => {
    ({ service, clock } = await startMembership(scope));
    ann = scope.client(MembershipService, service, await scope.token({ subject: 'ann' }));
    bob = scope.client(MembershipService, service, await scope.token({ subject: 'bob' }));
  });
  afterAll(async () => {
    await service.close();
    await scope.close();
  });

  const member = async (profileId: string, segmentId: string) =>
    (await ann.isMember({ profileId, segmentIds: [segmentId] })).memberships[0]?.member;

  /** Waits until membership has applied a change of the profile (its partition may lag). */
  const seen = (profileId: string, segmentId: string) =>
    eventually(async () => {
      const { notes } = await ann.explain({ profileId, segmentId });
      expect(notes).not.toContain('membership has seen no change of this profile');
    });

  const transitionsOf = async (segmentId: string) =>
    (await harness.transitions())
      .map(({ transition }) => transition)
      .filter((t) => t.segmentId === segmentId);

  it('selects winter-apparel buyers of last year who opened no email in 90 days, and explains why not', async () => {
    await harness.define('seg_winter', PRODUCT_EXAMPLES.winterBuyersNotOpening.json);
    const lastYear = Date.UTC(new Date(clock.now()).getUTCFullYear() - 1, 0, 20);
    const recently = clock.now().getTime() - 10 * DAY;
    const winterOrder = { products: [{ category: 'Winter Apparel' }, { category: 'socks' }] };
    await harness.event('user:quiet', 'Order Completed', lastYear, winterOrder);
    await harness.event('user:reader', 'Order Completed', lastYear, winterOrder);
    await harness.event('user:reader', 'Email Opened', recently);
    await harness.event('user:summer', 'Order Completed', lastYear, {
      products: [{ category: 'beachwear' }],
    });
    await eventually(async () => expect(await member('user:quiet', 'seg_winter')).toBe(true));
    // the reader's partition may still be applying its events: wait until both are in
    const { explanation, membership } = await eventually(async () => {
      const answer = await ann.explain({ profileId: 'user:reader', segmentId: 'seg_winter' });
      expect(answer.explanation?.condition?.children.map((c) => c.matched)).toEqual([true, false]);
      return answer;
    });
    expect(membership?.member).toBe(false);
    await seen('user:summer', 'seg_winter');
    expect(await member('user:summer', 'seg_winter')).toBe(false);
    expect(explanation?.condition?.children[1]?.summary).toMatch(/count of Email Opened .* = 1/);
  });

  it('emits exactly the transitions between the old and the new membership when a rule is edited', async () => {
    await harness.define('seg_plan', { condition: { trait: { path: 'plan', equals: 'pro' } } });
    for (const [profile, plan] of [
      ['user:p1', 'pro'],
      ['user:p2', 'free'],
      ['user:p3', 'pro'],
    ] as const)
      await harness.traits(profile, { plan });
    await eventually(async () => expect(await transitionsOf('seg_plan')).toHaveLength(2));
    await seen('user:p2', 'seg_plan');
    await harness.define('seg_plan', {
      condition: { trait: { path: 'plan', in: ['free', 'team'] } },
    });
    const edited = await eventually(async () => {
      const all = await transitionsOf('seg_plan');
      expect(all).toHaveLength(5);
      return all.filter((t) => t.segmentVersion === 2n);
    });
    expect(
      edited.map((t) => `${t.profileId} ${TransitionKind[t.kind]} v${t.segmentVersion}`).sort(),
    ).toEqual(['user:p1 EXITED v2', 'user:p2 ENTERED v2', 'user:p3 EXITED v2']);
    expect(edited.every((t) => t.cause === TransitionCause.RULE_CHANGE)).toBe(true);
  });

  it('exits every member of a deleted segment, which then no longer exists', async () => {
    await harness.define('seg_doomed', { condition: { hasTag: 'doomed' } });
    await harness.publish([
      harness.change('user:d1', { case: 'tagsChanged', value: { added: ['doomed'] } }),
    ]);
    await eventually(async () => expect(await member('user:d1', 'seg_doomed')).toBe(true));
    await harness.deleteSegment('seg_doomed');
    await eventually(async () => {
      const exits = (await transitionsOf('seg_doomed')).filter(
        (t) => t.kind === TransitionKind.EXITED,
      );
      expect(exits.map((t) => TransitionCause[t.cause])).toEqual(['DELETED']);
    });
    expect(await codeOf(ann.isMember({ profileId: 'user:d1', segmentIds: ['seg_doomed'] }))).toBe(
      status.NOT_FOUND,
    );
  });

  it('moves a profile in when a merge brings it the events it lacked, and out when it is erased', async () => {
    await harness.define('seg_repeat', {
      condition: { event: { name: 'Order Completed', count: { gte: 2 } } },
    });
    const now = clock.now().getTime();
    await harness.event('anon:device-1', 'Order Completed', now - 60_000);
    await harness.event('user:merged', 'Order Completed', now);
    await seen('user:merged', 'seg_repeat');
    expect(await member('user:merged', 'seg_repeat')).toBe(false);
    const merge = {
      case: 'profilesMerged' as const,
      value: { survivorProfileId: 'user:merged', absorbedProfileIds: ['anon:device-1'] },
    };
    await harness.publish([
      harness.change('anon:device-1', merge),
      harness.change('user:merged', merge),
    ]);
    await eventually(async () => expect(await member('user:merged', 'seg_repeat')).toBe(true));
    const [entered] = await transitionsOf('seg_repeat');
    expect(entered).toMatchObject({ profileId: 'user:merged', cause: TransitionCause.MERGE });

    await harness.publish([harness.change('user:merged', { case: 'profileErased', value: {} })]);
    await eventually(async () => expect(await member('user:merged', 'seg_repeat')).toBe(false));
    const exited = (await transitionsOf('seg_repeat')).at(-1);
    expect(exited).toMatchObject({ kind: TransitionKind.EXITED, cause: TransitionCause.ERASE });
    expect((await ann.getProfileSegments({ profileId: 'user:merged' })).memberships).toEqual([]);
  });

  it('previews an unsaved rule, streams members with a cursor, counts and reports status', async () => {
    await harness.define('seg_buyers', {
      condition: { event: { name: 'Bought', count: { gte: 1 } } },
    });
    const now = clock.now().getTime();
    for (let i = 0; i < 25; i += 1)
      await harness.event(`user:buyer-${String(i).padStart(2, '0')}`, 'Bought', now, {
        total: i,
      });
    await eventually(async () => {
      const { counts } = await ann.countMembers({ segmentIds: ['seg_buyers'] });
      expect(counts[0]).toMatchObject({ memberCount: 25n, complete: true });
    });
    const preview = await ann.preview({
      rule: fromJson(RuleSchema, { condition: { event: { name: 'Bought', count: { gte: 1 } } } }),
      sampleSize: 10,
    });
    expect(preview).toMatchObject({ estimatedCount: 25n, exact: true, partitionCount: 2 });
    expect(preview.sampleProfileIds).toHaveLength(10);
    const estimate = await ann.preview({
      rule: fromJson(RuleSchema, {
        condition: { event: { name: 'Bought', sum: { property: 'total', gte: 20 } } },
      }),
    });
    expect(estimate).toMatchObject({ estimatedCount: 5n, exact: false });

    const firstPages = [];
    let cursor = '';
    for await (const page of ann.listMembers({ segmentId: 'seg_buyers', pageSize: 4, limit: 8n })) {
      firstPages.push(...page.profileIds);
      cursor = page.cursor;
    }
    expect(firstPages).toHaveLength(8);
    const rest = [];
    for await (const page of ann.listMembers({ segmentId: 'seg_buyers', cursor, pageSize: 100 }))
      rest.push(...page.profileIds);
    expect(new Set([...firstPages, ...rest]).size).toBe(25);
    expect(rest).toHaveLength(17);

    const { status: total, partitions } = await ann.getEvaluationStatus({
      segmentId: 'seg_buyers',
    });
    expect(total).toMatchObject({ memberCount: 25n, state: SegmentState.READY, partition: -1 });
    expect(partitions).toHaveLength(2);
  });

  it('finds a segment published a moment ago at once, and calls one never published NOT_FOUND', async () => {
    // each asked right after its definition is on the topic, with no waiting in between
    for (let i = 0; i < 5; i++) {
      const segmentId = `seg_fresh_${i}`;
      await harness.define(segmentId, { condition: { hasTag: `fresh-${i}` } });
      const { memberships } = await ann.isMember({ profileId: 'user:f1', segmentIds: [segmentId] });
      expect(memberships.map((m) => [m.segmentId, m.member])).toEqual([[segmentId, false]]);
    }
    const started = performance.now();
    expect(await codeOf(ann.isMember({ profileId: 'user:f1', segmentIds: ['seg_never'] }))).toBe(
      status.NOT_FOUND,
    );
    // the topic is read to its end, not waited on for the whole bound
    expect(performance.now() - started).toBeLessThan(CATCH_UP_TIMEOUT_MS);
  });

  it('answers NOT_FOUND for a private segment of someone else, whatever is asked', async () => {
    await harness.define(
      'seg_private',
      { condition: { hasTag: 'x' } },
      {
        visibility: Visibility.PRIVATE,
      },
    );
    await eventually(async () =>
      expect(await codeOf(ann.countMembers({ segmentIds: ['seg_private'] }))).toBe('OK'),
    );
    expect(await codeOf(bob.countMembers({ segmentIds: ['seg_private'] }))).toBe(status.NOT_FOUND);
    expect(await codeOf(bob.explain({ profileId: 'user:p1', segmentId: 'seg_private' }))).toBe(
      status.NOT_FOUND,
    );
    const stream = async () => {
      for await (const _ of bob.listMembers({ segmentId: 'seg_private' })) void _;
    };
    expect(await codeOf(stream())).toBe(status.NOT_FOUND);
    expect(await codeOf(bob.isMember({ profileId: 'user:p1', segmentIds: [] }))).toBe(
      status.INVALID_ARGUMENT,
    );
  });
});
