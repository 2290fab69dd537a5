import { fromBinary, type JsonValue } from '@bufbuild/protobuf';
import {
  CloudEventHeaders,
  MembershipService,
  RefreshMode,
  RefreshProgressSchema,
  RefreshState,
  SegmentEvaluationStatusSchema,
  SegmentState,
  TransitionCause,
  TransitionKind,
  jobProgressTopic,
  segmentStatusTopic,
} from '@shoal/contracts';
import { type RunningService, partitionOf } from '@shoal/platform';
import { TestScope, eventually } from '@shoal/testing';
import { MembershipHarness } from './membership-harness';
import { startMembership } from './membership-service';

const DAY = 86_400_000;

const RETIREMENT_READERS = {
  condition: {
    event: {
      name: 'Content Viewed',
      where: [{ path: 'topic', equals: 'retirement-planning' }],
      count: { gte: 3 },
    },
  },
};

const LOYAL_BUT_LAPSED: JsonValue = {
  condition: {
    all: {
      conditions: [
        { event: { name: 'Order Completed', count: { gt: 1 } } },
        { event: { name: 'Page Viewed', count: { eq: 0 }, window: { lastDays: 40 } } },
        { event: { name: 'Order Completed', sum: { property: 'total', gt: 800 } } },
        { trait: { path: 'marketing_consent', equals: true } },
      ],
    },
  },
};

describe('membership over real Kafka and the store', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  const services: RunningService[] = [];
  afterAll(async () => {
    for (const service of services) await service.close();
    await scope.close();
  });

  it('publishes segment.entered with CloudEvents headers when the third retirement article is read', async () => {
    const { service } = await startMembership(scope);
    services.push(service);
    await harness.define('seg_retirement', RETIREMENT_READERS);
    const now = Date.now();
    for (const minutes of [3, 2]) {
      await harness.event('user:reader', 'Content Viewed', now - minutes * 60_000, {
        topic: 'retirement-planning',
      });
    }
    await harness.event('user:reader', 'Content Viewed', now, { topic: 'other' });
    await harness.event('user:reader', 'Content Viewed', now, { topic: 'retirement-planning' });
    const [entered] = await eventually(async () => {
      const all = await harness.transitions();
      expect(all).toHaveLength(1);
      return all;
    }, 60_000);
    expect(entered?.transition).toMatchObject({
      kind: TransitionKind.ENTERED,
      segmentId: 'seg_retirement',
      segmentVersion: 1n,
      profileId: 'user:reader',
      cause: TransitionCause.EVENT,
      sequence: 1n,
    });
    const headers = Object.fromEntries(
      Object.entries(entered?.message.headers ?? {}).map(([k, v]) => [k, String(v)]),
    );
    expect(headers).toMatchObject({
      [CloudEventHeaders.specversion]: '1.0',
      [CloudEventHeaders.type]: 'shoal.segment.entered',
      [CloudEventHeaders.id]: entered?.transition.id,
      [CloudEventHeaders.subject]: 'user:reader',
      [CloudEventHeaders.source]: '/shoal/segments/seg_retirement',
    });
  });
});

describe('time, restarts, refreshes and status', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  let running: { service: RunningService; clock: import('./test-clock').MovableClock } | undefined;
  afterAll(async () => {
    await running?.service.close();
    await scope.close();
  });

  it('enters the loyal-but-lapsed segment by time alone when 40 days pass without a visit, across a restart', async () => {
    running = await startMembership(scope);
    await harness.define('seg_lapsed', LOYAL_BUT_LAPSED);
    const now = Date.now();
    await harness.traits('user:loyal', { marketing_consent: true }, now);
    await harness.event('user:loyal', 'Page Viewed', now);
    await harness.event('user:loyal', 'Order Completed', now, { total: 500 });
    await harness.event('user:loyal', 'Order Completed', now, { total: 450 });
    // the state and its timer are checkpointed; a restart must keep the timer
    const mongo = await scope.mongo();
    const states = mongo
      .db(`t${scope.id}_membership`)
      .collection<{ _id: string; s: string }>(`states_p${partitionOf('user:loyal', 2)}`);
    await eventually(async () => {
      const stored = await states.findOne({ _id: 'user:loyal' });
      expect(JSON.parse(stored?.s ?? '{}').nextAt).toBeGreaterThan(now);
    });
    await running.service.close();
    running = await startMembership(scope);
    running.clock.advance(41 * DAY);
    const transitions = await eventually(async () => {
      const all = await harness.transitions();
      expect(all.filter((t) => t.transition.segmentId === 'seg_lapsed')).toHaveLength(1);
      return all;
    }, 60_000);
    expect(transitions[0]?.transition).toMatchObject({
      profileId: 'user:loyal',
      kind: TransitionKind.ENTERED,
      cause: TransitionCause.TIME,
    });
  });

  it('changes a manual segment only when it is refreshed, and reports the job per partition', async () => {
    await harness.define(
      'seg_manual',
      { condition: { trait: { path: 'plan', equals: 'pro' } } },
      { refresh: { mode: RefreshMode.MANUAL } },
    );
    await harness.traits('user:pro', { plan: 'pro' });
    await harness.traits('user:free', { plan: 'free' });
    const { service, clock } = running as NonNullable<typeof running>;
    // the service checks tokens against its own clock, which has moved 41 days ahead
    const client = scope.client(
      MembershipService,
      service,
      await scope.token({ subject: 'ann', issuedAt: clock.now() }),
    );
    for (const profileId of ['user:pro', 'user:free']) {
      // both changes applied (their partitions may lag), and still nobody entered
      await eventually(async () => {
        const { notes } = await client.explain({ profileId, segmentId: 'seg_manual' });
        expect(notes).not.toContain('membership has seen no change of this profile');
      });
    }
    expect((await harness.summary()).filter((s) => s.includes('seg_manual'))).toEqual([]);
    await harness.refresh('job-1', 'seg_manual');
    await eventually(async () => {
      expect((await harness.summary()).filter((s) => s.includes('seg_manual'))).toEqual([
        'user:pro entered seg_manual #1',
      ]);
    }, 30_000);
    const reports = await eventually(async () => {
      const progress = (await scope.readTopicToEnd(jobProgressTopic))
        .map((m) => fromBinary(RefreshProgressSchema, m.value as Buffer))
        .filter((p) => p.jobId === 'job-1' && p.state === RefreshState.SUCCEEDED);
      expect(progress).toHaveLength(2);
      return progress;
    }, 30_000);
    expect(reports.reduce((sum, r) => sum + Number(r.entered), 0)).toBe(1);
    expect(reports.reduce((sum, r) => sum + Number(r.total), 0)).toBeGreaterThanOrEqual(2);
  });

  it('publishes each segment’s status per partition, summing to its member count', async () => {
    await eventually(async () => {
      const latest = new Map<string, { state: SegmentState; count: number }>();
      for (const message of await scope.readTopicToEnd(segmentStatusTopic)) {
        if (message.value === null) continue;
        const status = fromBinary(SegmentEvaluationStatusSchema, message.value);
        if (status.segmentId === 'seg_manual')
          latest.set(String(message.key), {
            state: status.state,
            count: Number(status.memberCount),
          });
      }
      expect([...latest.keys()].sort()).toEqual(['seg_manual/0', 'seg_manual/1']);
      expect([...latest.values()].every((s) => s.state === SegmentState.READY)).toBe(true);
      expect([...latest.values()].reduce((sum, s) => sum + s.count, 0)).toBe(1);
    }, 30_000);
  });
});

describe('a new segment that thousands of profiles enter at once', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  let running: { service: RunningService } | undefined;
  afterAll(async () => {
    await running?.service.close();
    await scope.close();
  });

  it('publishes every entry, in record batches the broker accepts', async () => {
    running = await startMembership(scope);
    const profiles = 6_000;
    const now = Date.now();
    for (let start = 0; start < profiles; start += 1_000) {
      await harness.publish(
        Array.from({ length: 1_000 }, (_, i) =>
          harness.change(
            `user:bulk-${start + i}`,
            { case: 'eventRecorded', value: { name: 'Signed Up' } },
            now,
          ),
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await harness.define('seg_everyone', {
      condition: { event: { name: 'Signed Up', count: { gte: 1 } } },
    });
    await eventually(async () => {
      const entered = (await harness.transitions()).filter(
        (t) => t.transition.segmentId === 'seg_everyone',
      );
      expect(entered).toHaveLength(profiles);
    }, 90_000);
  });
});
