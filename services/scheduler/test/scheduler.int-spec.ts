import { type JsonValue, fromBinary } from '@bufbuild/protobuf';
import { type Timestamp, timestampMs } from '@bufbuild/protobuf/wkt';
import { join } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import { tmpdir } from 'node:os';
import {
  JobStatus,
  JobTrigger,
  RefreshMode,
  RefreshState,
  SchedulerService,
  type SegmentEvaluationStatus,
  SegmentEvaluationStatusSchema,
  SegmentStatus,
  TransitionCause,
  TransitionKind,
  membershipChangesTopic,
  segmentStatusTopic,
} from '@shoal/contracts';
import { type Clock, type RunningService, startService } from '@shoal/platform';
import {
  type LaunchedProcess,
  TestScope,
  eventually,
  freePort,
  startServiceProcess,
} from '@shoal/testing';
import { schedulerService } from '../src/service';
import { SchedulerHarness } from './scheduler-harness';

/** Real time, moved forward by the test: the scheduler's clock. */
class MovedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const JOB_TIMEOUT_MS = 10_000;
const DAY_MS = 24 * 60 * 60_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const planIs = (plan: string) => ({ condition: { trait: { path: 'plan', equals: plan } } });

/** Profiles in the large refresh: enough that it still runs when the cancel arrives. */
const LARGE = 20_000;

const GOLD = { condition: { trait: { path: 'plan', equals: 'gold' } } };

describe('the scheduler with membership running, on real Kafka and the store', () => {
  const scope = new TestScope();
  const clock = new MovedClock();
  const harness = new SchedulerHarness(scope, () => clock.now().getTime());
  let membership: LaunchedProcess;
  const schedulers: RunningService[] = [];
  let startScheduler: () => Promise<RunningService>;
  /** A client whose token is issued at the scheduler's (moved) time. */
  const client = {
    call: async () =>
      scope.client(
        SchedulerService,
        schedulers[0] as RunningService,
        await scope.token({ subject: 'ann', groups: ['marketing'], issuedAt: clock.now() }),
      ),
    getJob: async (r: { jobId: string }) => (await client.call()).getJob(r),
    refreshNow: async (r: { segmentIds: string[] }) => (await client.call()).refreshNow(r),
    listJobs: async (r: { segmentId: string }) => (await client.call()).listJobs(r),
    getSystemStatus: async () => (await client.call()).getSystemStatus({}),
    cancelJob: async (r: { jobId: string }) => (await client.call()).cancelJob(r),
    summary: async (r: { segmentId: string }) => (await client.call()).getSegmentSummary(r),
    history: async (r: { segmentId: string; fromDay: string; toDay: string }) =>
      (await client.call()).getMemberCountHistory(r),
  };

  beforeAll(async () => {
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const env = scope.env('membership', {
      MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '200',
      MEMBERSHIP_STATUS_INTERVAL_MS: '1000',
    });
    membership = await startServiceProcess({
      name: 'membership',
      env,
      grpcPort,
      httpPort,
      logFile: join(tmpdir(), `shoal-scheduler-int-${scope.id}-membership.log`),
    });
    startScheduler = () =>
      startService(schedulerService, {
        env: scope.env('scheduler', {
          SCHEDULER_TICK_MS: '200',
          SCHEDULER_LEASE_MS: '2000',
          SCHEDULER_JOB_TIMEOUT_MS: String(JOB_TIMEOUT_MS),
          SCHEDULER_SNAPSHOT_CRON: '0 0 * * *',
          SCHEDULER_READINESS_URLS: `membership=http://127.0.0.1:${httpPort}/readyz`,
        }),
        clock,
        logDestination: process.env.SHOAL_TEST_LOGS ? process.stdout : scope.logs,
      });
    for (let i = 0; i < 2; i++) schedulers.push(await startScheduler());
  }, 180_000);

  afterAll(async () => {
    for (const s of schedulers) await s.close();
    await membership?.kill('SIGKILL');
    await scope.close();
  });

  const job = (id: string) => client.getJob({ jobId: id }).then((r) => r.job);

  /** Refreshes a segment now and waits for its job to end as expected. */
  const refreshed = async (segmentId: string, status = JobStatus.SUCCEEDED, timeoutMs = 60_000) => {
    const { jobs } = await eventually(() => client.refreshNow({ segmentIds: [segmentId] }), 30_000);
    const id = jobs[0]?.id as string;
    return eventually(async () => {
      const found = await job(id);
      expect(found?.status).toBe(status);
      return found;
    }, timeoutMs);
  };

  /** The segment's summary once membership's status shows this many members. */
  const summaryWith = (segmentId: string, memberCount: number) =>
    eventually(async () => {
      const summary = await client.summary({ segmentId });
      expect(summary.memberCount).toBe(BigInt(memberCount));
      return summary;
    }, 30_000);

  it('answers for a segment published a moment ago at once: its summary, its jobs, a refresh', async () => {
    for (let i = 0; i < 3; i++) {
      const segmentId = `seg_fresh_${i}`;
      await harness.define(segmentId, GOLD, { refresh: { mode: RefreshMode.MANUAL } });
      // asked right after the definition is on the topic, with no waiting in between
      expect((await client.summary({ segmentId })).memberCount).toBe(0n);
      expect((await client.listJobs({ segmentId })).jobs).toEqual([]);
      const { jobs } = await client.refreshNow({ segmentIds: [segmentId] });
      expect(jobs.map((j) => j.segmentId)).toEqual([segmentId]);
    }
    await expect(client.summary({ segmentId: 'seg_never' })).rejects.toMatchObject({
      code: grpcStatus.NOT_FOUND,
    });
  });

  it('RefreshNow of a MANUAL segment emits its transitions and ends SUCCEEDED with their counts', async () => {
    await harness.traits(['m1', 'm2', 'm3'], { plan: 'gold' });
    await harness.traits(['m4'], { plan: 'free' });
    await harness.define('seg_manual', GOLD, { refresh: { mode: RefreshMode.MANUAL } });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await harness.transitionsOf('seg_manual')).toEqual([]);
    const { jobs } = await eventually(
      () => client.refreshNow({ segmentIds: ['seg_manual'] }),
      30_000,
    );
    const id = jobs[0]?.id as string;
    const done = await eventually(async () => {
      const found = await job(id);
      expect(found?.status).toBe(JobStatus.SUCCEEDED);
      return found;
    }, 60_000);
    const transitions = await harness.transitionsOf('seg_manual');
    const entered = transitions.filter((t) => t.kind === TransitionKind.ENTERED).length;
    expect(entered).toBe(3);
    expect(done).toMatchObject({
      trigger: JobTrigger.MANUAL,
      entered: BigInt(entered),
      exited: BigInt(transitions.length - entered),
      partitionsDone: 2,
      partitionCount: 2,
    });
  });

  it('refreshes a SCHEDULED segment only at its tick, and records an inactive one’s tick as SKIPPED', async () => {
    await harness.traits(['s1', 's2'], { plan: 'gold' });
    const scheduled = { mode: RefreshMode.SCHEDULED, cron: '0 * * * *' };
    await harness.define('seg_hourly', GOLD, { refresh: scheduled });
    await harness.define('seg_off', GOLD, { refresh: scheduled, status: SegmentStatus.INACTIVE });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await harness.transitionsOf('seg_hourly')).toEqual([]);
    clock.offsetMs += 61 * 60_000; // past the next full hour
    const ran = await eventually(async () => {
      const { jobs } = await client.listJobs({ segmentId: 'seg_hourly' });
      expect(jobs.map((j) => j.status)).toEqual([JobStatus.SUCCEEDED]);
      return jobs[0];
    }, 60_000);
    expect(ran?.trigger).toBe(JobTrigger.SCHEDULE);
    expect(await harness.transitionsOf('seg_hourly')).toHaveLength(Number(ran?.entered));
    const { jobs: skipped } = await client.listJobs({ segmentId: 'seg_off' });
    expect(skipped.map((j) => [j.status, j.error])).toEqual([
      [JobStatus.SKIPPED, 'the segment is inactive'],
    ]);
  });

  it('fires one job per tick with two scheduler instances running', async () => {
    await harness.define('seg_twice', GOLD, {
      refresh: { mode: RefreshMode.SCHEDULED, cron: '*/5 * * * *' },
    });
    await new Promise((r) => setTimeout(r, 2_000));
    clock.offsetMs += 5 * 60_000;
    await eventually(async () => {
      const { jobs } = await client.listJobs({ segmentId: 'seg_twice' });
      expect(jobs).toHaveLength(1);
    }, 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const { jobs } = await client.listJobs({ segmentId: 'seg_twice' });
    expect(jobs).toHaveLength(1);
  });

  it('shows the system’s status: readiness, lag and the last failure', async () => {
    const { services, consumerLag } = await client.getSystemStatus();
    expect(services).toEqual([expect.objectContaining({ service: 'membership', ready: true })]);
    expect(consumerLag.map((l) => l.group)).toContain('membership');
  });

  it('counts each day’s entries and exits of a segment from the membership topic, once', async () => {
    await harness.traits(['c1', 'c2', 'c3'], { plan: 'teal' });
    await harness.define('seg_churn', planIs('teal'), { refresh: { mode: RefreshMode.MANUAL } });
    await new Promise((r) => setTimeout(r, 3_000));
    await refreshed('seg_churn');
    await harness.traits(['c1'], { plan: 'free' });
    await new Promise((r) => setTimeout(r, 2_000));
    await refreshed('seg_churn');
    const today = Date.now(); // membership's time: transitions count on the day they happened
    const range = {
      segmentId: 'seg_churn',
      fromDay: dayOf(today - DAY_MS),
      toDay: dayOf(today + DAY_MS),
    };
    const expected = [
      [dayOf(today - DAY_MS), 0n, 0n],
      [dayOf(today), 3n, 1n],
      [dayOf(today + DAY_MS), 0n, 0n],
    ];
    const churnOf = async () =>
      (await client.history(range)).churn.map((c) => [c.day, c.entered, c.exited]);
    await eventually(async () => expect(await churnOf()).toEqual(expected), 30_000);
    expect(await client.summary({ segmentId: 'seg_churn' })).toMatchObject({
      entered30d: 3n,
      exited30d: 1n,
    });

    // every transition delivered again: the schedulers stop, their group starts over, they start
    while (schedulers.length > 0) await schedulers.pop()?.close();
    const admin = scope.kafka().admin();
    await admin.connect();
    const group = `${scope.topicPrefix}scheduler-churn`;
    const topic = scope.topicName(membershipChangesTopic);
    try {
      await eventually(() => admin.resetOffsets({ groupId: group, topic, earliest: true }), 60_000);
    } finally {
      await admin.disconnect();
    }
    for (let i = 0; i < 2; i++) schedulers.push(await startScheduler());
    await eventually(async () => {
      const { consumerLag } = await client.getSystemStatus();
      const churn = consumerLag.find((l) => l.group === 'scheduler-churn');
      expect(churn?.lag).toBe(0n);
    }, 60_000);
    expect(await churnOf()).toEqual(expected);
  });

  it('fails a run whose worker stops reporting, and leaves "last refreshed" where it was', async () => {
    await harness.traits(['f1', 'f2'], { plan: 'bronze' });
    await harness.define('seg_fail', planIs('bronze'), { refresh: { mode: RefreshMode.MANUAL } });
    await new Promise((r) => setTimeout(r, 3_000));
    const first = await refreshed('seg_fail');
    // "last refreshed" is the oldest over the partitions: wait until every partition's status
    // shows this refresh (a partition's status before it carries the definition's time)
    const before = await eventually(async () => {
      const summary = await summaryWith('seg_fail', 2);
      expect(summary.lastRefreshedAt).toBeDefined();
      expect(timestampMs(summary.lastRefreshedAt as Timestamp)).toBeGreaterThanOrEqual(
        timestampMs(first?.startedAt as Timestamp),
      );
      return summary.lastRefreshedAt;
    }, 30_000);

    process.kill(membership.pid, 'SIGSTOP'); // the worker stops: no progress, no status
    let failed;
    try {
      failed = await refreshed('seg_fail', JobStatus.FAILED, JOB_TIMEOUT_MS + 30_000);
    } finally {
      process.kill(membership.pid, 'SIGCONT');
    }
    expect(failed?.error).toMatch(/^no progress reported for \d+ s$/);
    // back, membership hears the refresh and the scheduler's cancel: it stops the refresh
    await eventually(async () => {
      const reports = await harness.progressOf(failed?.id as string);
      const last = new Map(reports.map((r) => [r.partition, r.state]));
      expect([...last]).toEqual(
        expect.arrayContaining([
          [0, RefreshState.CANCELLED],
          [1, RefreshState.CANCELLED],
        ]),
      );
    }, 30_000);
    await new Promise((r) => setTimeout(r, 3_000)); // membership's status published again since
    const after = await client.summary({ segmentId: 'seg_fail' });
    expect(after.lastRefreshedAt).toEqual(before);
    expect(after.lastJobStatus).toBe(JobStatus.FAILED);
    expect((await job(failed?.id as string))?.status).toBe(JobStatus.FAILED);
  });

  it('returns the daily snapshots of a segment’s member count as its history', async () => {
    await harness.traits(['h1', 'h2'], { plan: 'silver' });
    await harness.define('seg_hist', planIs('silver'), { refresh: { mode: RefreshMode.MANUAL } });
    await new Promise((r) => setTimeout(r, 3_000));
    await refreshed('seg_hist');
    await summaryWith('seg_hist', 2);
    const nextMidnight = (ms: number) => (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
    const today = clock.now().getTime();
    const day1 = nextMidnight(today);
    clock.offsetMs += day1 + 60_000 - today; // one minute past the snapshot time (00:00 UTC)
    await eventually(async () => {
      const { snapshots } = await client.history({
        segmentId: 'seg_hist',
        fromDay: dayOf(day1),
        toDay: dayOf(day1),
      });
      expect(snapshots.map((s) => [s.day, s.memberCount])).toEqual([[dayOf(day1), 2n]]);
    }, 30_000);

    await harness.traits(['h3'], { plan: 'silver' });
    await new Promise((r) => setTimeout(r, 2_000));
    await refreshed('seg_hist');
    await summaryWith('seg_hist', 3);
    const day2 = day1 + DAY_MS;
    clock.offsetMs += DAY_MS;
    await eventually(async () => {
      const { snapshots } = await client.history({
        segmentId: 'seg_hist',
        fromDay: dayOf(today),
        toDay: dayOf(day2 + DAY_MS),
      });
      expect(snapshots.map((s) => [s.day, s.memberCount])).toEqual([
        [dayOf(day1), 2n],
        [dayOf(day2), 3n],
      ]);
    }, 30_000);
  });

  it('keeps the exact sum of a value trait over the members as they enter, leave and change it', async () => {
    const profiles = new Map<string, Record<string, JsonValue>>();
    /** A profile's traits change, in the test's model and on the changes topic. */
    const change = async (id: string, traits: Record<string, JsonValue>) => {
      profiles.set(id, { ...profiles.get(id), ...traits });
      await harness.traits([id], traits);
    };
    /** The sum computed here from the input: members' numeric values of the trait. */
    const expected = (trait: string) => {
      const members = [...profiles.values()].filter((t) => t.plan === 'ruby');
      const values = members.map((t) => t[trait]).filter((v) => typeof v === 'number');
      return {
        members: members.length,
        sum: values.reduce<number>((a, v) => a + (v as number), 0),
        valued: values.length,
      };
    };
    // membership's status topic, followed: the last status of each partition of the segment
    const last = new Map<number, SegmentEvaluationStatus>();
    const follower = scope.kafka().consumer({ groupId: `${scope.topicPrefix}value-sum-reader` });
    await follower.connect();
    await follower.subscribe({ topic: scope.topicName(segmentStatusTopic), fromBeginning: true });
    await follower.run({
      eachMessage: async ({ message }) => {
        if (message.value === null) return;
        const status = fromBinary(SegmentEvaluationStatusSchema, message.value);
        if (status.segmentId === 'seg_valued') last.set(status.partition, status);
      },
    });
    const published = () => {
      const statuses = [...last.values()];
      return {
        traits: [...new Set(statuses.map((s) => s.valueTrait))],
        members: statuses.reduce((n, s) => n + Number(s.memberCount), 0),
        sum: statuses.reduce((n, s) => n + (s.valueSum ?? 0), 0),
        valued: statuses.reduce((n, s) => n + Number(s.valuedMemberCount), 0),
      };
    };
    const shows = (trait: string) =>
      eventually(async () => {
        const want = expected(trait);
        expect(published()).toEqual({ traits: [trait], ...want });
        expect(await client.summary({ segmentId: 'seg_valued' })).toMatchObject({
          memberCount: BigInt(want.members),
          valueTrait: trait,
          valueSum: want.sum,
          valuedMemberCount: BigInt(want.valued),
        });
      }, 30_000);

    await harness.define('seg_valued', planIs('ruby'), { valueTrait: 'ltv' });
    await change('v1', { plan: 'ruby', ltv: 10.5, orders: 2 });
    await change('v2', { plan: 'ruby', ltv: 20.25 });
    await change('v3', { plan: 'ruby', ltv: 'n/a', orders: 1 });
    await change('v4', { plan: 'ruby', ltv: 7 });
    await change('v5', { plan: 'free', ltv: 1000, orders: 9 });
    await shows('ltv');
    await change('v2', { ltv: 30 }); // a member's value changes
    await change('v1', { plan: 'free' }); // a member leaves
    await change('v5', { plan: 'ruby' }); // and one enters
    await change('v3', { ltv: 0.75 }); // a value becomes a number
    await shows('ltv');
    expect(expected('ltv')).toEqual({ members: 4, sum: 1037.75, valued: 4 });

    // the segment names another value trait: every member is counted with it
    await harness.define('seg_valued', planIs('ruby'), { valueTrait: 'orders' });
    try {
      await shows('orders');
    } finally {
      await follower.disconnect();
    }
    expect(expected('orders')).toEqual({ members: 4, sum: 10, valued: 2 });
  });

  it('shows a rule change as a RULE_CHANGE job that ends SUCCEEDED with the transitions it made', async () => {
    await harness.traits(['r1', 'r2'], { plan: 'jade' });
    await harness.traits(['r3'], { plan: 'onyx' });
    await harness.define('seg_rules', planIs('jade'));
    await eventually(async () => {
      const entered = (await harness.transitionsOf('seg_rules')).map((t) => t.profileId);
      expect(entered.sort()).toEqual(['r1', 'r2']);
    }, 30_000);
    expect((await client.listJobs({ segmentId: 'seg_rules' })).jobs).toEqual([]);

    await harness.define('seg_rules', planIs('onyx'));
    const done = await eventually(async () => {
      const { jobs } = await client.listJobs({ segmentId: 'seg_rules' });
      expect(jobs.map((j) => [j.id, j.trigger, j.status])).toEqual([
        ['seg_rules@v2', JobTrigger.RULE_CHANGE, JobStatus.SUCCEEDED],
      ]);
      return jobs[0];
    }, 60_000);
    const made = (await harness.transitionsOf('seg_rules')).filter(
      (t) => t.cause === TransitionCause.RULE_CHANGE && t.segmentVersion === 2n,
    );
    const entered = made.filter((t) => t.kind === TransitionKind.ENTERED);
    expect(entered.map((t) => t.profileId)).toEqual(['r3']);
    expect(done).toMatchObject({
      entered: BigInt(entered.length),
      exited: BigInt(made.length - entered.length),
      partitionsDone: 2,
      partitionCount: 2,
      segmentVersion: 2n,
    });
    expect(done?.exited).toBe(2n);
  });

  it('cancels a large refresh while it runs: the job ends CANCELLED with part of it done', async () => {
    const profiles = Array.from({ length: LARGE }, (_, i) => `bulk-${i}`);
    await harness.traits(profiles, { plan: 'bulk' });
    await harness.define('seg_large', planIs('bulk'), { refresh: { mode: RefreshMode.MANUAL } });
    // membership has every profile once its committed offsets reach the end of the changes
    await eventually(
      async () => {
        const { consumerLag } = await client.getSystemStatus();
        const changes = consumerLag.find(
          (l) => l.group.endsWith('membership') && l.topic.endsWith('profiles.changes'),
        );
        expect(changes?.lag).toBe(0n);
      },
      180_000,
      500,
    );
    const { jobs } = await client.refreshNow({ segmentIds: ['seg_large'] });
    const id = jobs[0]?.id as string;
    await eventually(
      async () => expect((await job(id))?.status).toBe(JobStatus.RUNNING),
      30_000,
      20,
    );
    await client.cancelJob({ jobId: id });
    const ended = await eventually(async () => {
      const found = await job(id);
      expect(found?.status).toBe(JobStatus.CANCELLED);
      return found;
    }, 30_000);
    expect(ended?.partitionsDone).toBe(2);
    expect(ended?.total).toBeGreaterThanOrEqual(BigInt(LARGE)); // every profile membership has
    expect(ended?.processed).toBeLessThan(ended?.total as bigint);
    expect(ended?.entered).toBeLessThan(BigInt(LARGE));
  });
});
