import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  JobStatus,
  JobTrigger,
  RefreshMode,
  SchedulerService,
  SegmentStatus,
  TransitionKind,
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

const GOLD = { condition: { trait: { path: 'plan', equals: 'gold' } } };

describe('the scheduler with membership running, on real Kafka and the store', () => {
  const scope = new TestScope();
  const clock = new MovedClock();
  const harness = new SchedulerHarness(scope, () => clock.now().getTime());
  let membership: LaunchedProcess;
  const schedulers: RunningService[] = [];
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
  };

  beforeAll(async () => {
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const env = Object.fromEntries(
      Object.entries(
        scope.env('membership', {
          MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '200',
          MEMBERSHIP_STATUS_INTERVAL_MS: '1000',
        }),
      ).filter((e): e is [string, string] => e[1] !== undefined),
    );
    membership = await startServiceProcess({
      name: 'membership',
      env,
      grpcPort,
      httpPort,
      logFile: join(tmpdir(), `shoal-scheduler-int-${scope.id}-membership.log`),
    });
    for (let i = 0; i < 2; i++) {
      schedulers.push(
        await startService(schedulerService, {
          env: scope.env('scheduler', {
            SCHEDULER_TICK_MS: '200',
            SCHEDULER_LEASE_MS: '2000',
            SCHEDULER_SNAPSHOT_CRON: '0 0 * * *',
            SCHEDULER_READINESS_URLS: `membership=http://127.0.0.1:${httpPort}/readyz`,
          }),
          clock,
          logDestination: process.env.SHOAL_TEST_LOGS ? process.stdout : scope.logs,
        }),
      );
    }
  }, 180_000);

  afterAll(async () => {
    for (const s of schedulers) await s.close();
    await membership?.kill('SIGKILL');
    await scope.close();
  });

  const job = (id: string) => client.getJob({ jobId: id }).then((r) => r.job);

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
});
