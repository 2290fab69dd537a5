import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { JobStatus, JobTrigger, SegmentKind, SegmentStatus } from '@shoal/contracts';
import { DomainError } from '@shoal/platform';
import pino from 'pino';
import { refusalOf } from '@shoal/testing';
import {
  RefreshState,
  ann,
  eve,
  newSchedulerTestService,
  progress,
} from '../../test/scheduler-test-service';
import { totalsOf } from './job';
import { JobsService } from './jobs.service';

const setUp = (settings?: Parameters<typeof newSchedulerTestService>[1]) =>
  newSchedulerTestService(JobsService, settings);

describe('JobsService', () => {
  it('queues a manual refresh, dispatches it to membership and sums its partitions to SUCCEEDED', async () => {
    const { jobs, define, membership, repository, clock } = await setUp();
    define('seg_a');
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    expect(job).toMatchObject({
      status: JobStatus.QUEUED,
      trigger: JobTrigger.MANUAL,
      requestedBy: 'ann',
    });
    await jobs.dispatchQueued();
    expect(membership.refreshes).toEqual([job?.id]);
    const id = job?.id as string;
    // membership must not start it once this job would have timed out here
    expect(membership.startBefore.get(id)).toBe(clock.now().getTime() + 60_000);
    await jobs.applyProgress([progress(id, 0, RefreshState.RUNNING, { processed: 5, total: 10 })]);
    expect((await repository.find(id))?.status).toBe(JobStatus.RUNNING);
    await jobs.applyProgress([
      progress(id, 0, RefreshState.SUCCEEDED, { processed: 10, total: 10, entered: 3, exited: 1 }),
      progress(id, 1, RefreshState.SUCCEEDED, { processed: 7, total: 7, entered: 2 }),
    ]);
    const done = await repository.find(id);
    expect(done?.status).toBe(JobStatus.SUCCEEDED);
    expect(totalsOf(done!)).toMatchObject({
      processed: 17,
      total: 17,
      entered: 5,
      exited: 1,
      partitionsDone: 2,
    });
    expect(await jobs.activeJobs()).toEqual([]);
    expect((await jobs.segmentJobs('seg_a')).lastSucceededAtMs).toBeDefined();
  });

  it('refreshes a segment published a moment ago: an id it does not know makes it read the definitions topic first, once per request', async () => {
    const { jobs, define, catalogue } = await setUp();
    define('seg_a');
    let reads = 0;
    catalogue.readsFrom({
      readToEnd: async () => {
        reads += 1;
        // what the topic held when asked: the segment created just before the request
        define('seg_fresh');
        return true;
      },
    });
    await jobs.refreshNow(['seg_a'], ann);
    expect(reads).toBe(0);
    const [, fresh] = await jobs.refreshNow(['seg_a', 'seg_fresh'], ann);
    expect(fresh?.segmentId).toBe('seg_fresh');
    expect(reads).toBe(1);

    catalogue.readsFrom({
      readToEnd: async () => {
        reads += 1;
        return false;
      },
    });
    expect((await refusalOf(jobs.refreshNow(['seg_x', 'seg_y'], ann), DomainError)).reason).toBe(
      'SEGMENT_NOT_FOUND',
    );
    // one read for the request, not one per unknown id
    expect(reads).toBe(2);
  });

  it('counts a partition’s final report once, however often it is delivered', async () => {
    const { jobs, define, repository } = await setUp();
    define('seg_a');
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    const id = job!.id;
    await jobs.dispatchQueued();
    const final = progress(id, 0, RefreshState.SUCCEEDED, { entered: 4 });
    await jobs.applyProgress([final, final, progress(id, 0, RefreshState.RUNNING, { entered: 9 })]);
    expect(totalsOf((await repository.find(id))!).entered).toBe(4);
  });

  it('lets a second request join the segment’s active job', async () => {
    const { jobs, define } = await setUp();
    define('seg_a');
    const [first] = await jobs.refreshNow(['seg_a'], ann);
    const [second] = await jobs.refreshNow(['seg_a'], ann);
    expect(second?.id).toBe(first?.id);
  });

  it('refreshes referenced segments first, each after the jobs of what it reads', async () => {
    const { jobs, define, membership, repository } = await setUp();
    define('seg_base');
    define('seg_user', {
      rule: { condition: { kind: { case: 'inSegment', value: 'seg_base' } } },
    });
    const [base, user] = await jobs.refreshNow(['seg_user', 'seg_base'], ann);
    expect([base?.segmentId, user?.segmentId]).toEqual(['seg_base', 'seg_user']);
    expect(user?.afterJobIds).toEqual([base?.id]);
    await jobs.dispatchQueued();
    expect(membership.refreshes).toEqual([base?.id]);
    for (const p of [0, 1])
      await jobs.applyProgress([progress(base!.id, p, RefreshState.SUCCEEDED)]);
    await jobs.dispatchQueued();
    expect(membership.refreshes).toEqual([base?.id, user?.id]);
    expect((await repository.find(user!.id))?.status).toBe(JobStatus.QUEUED);
  });

  it('records an inactive segment’s refresh as SKIPPED without asking membership', async () => {
    const { jobs, define, membership } = await setUp();
    define('seg_a', { status: SegmentStatus.INACTIVE });
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    expect(job).toMatchObject({ status: JobStatus.SKIPPED, error: 'the segment is inactive' });
    await jobs.dispatchQueued();
    expect(membership.refreshes).toEqual([]);
  });

  it('fails a job when any partition failed, with every reason, and remembers it as the last failure', async () => {
    const { jobs, define } = await setUp();
    define('seg_a');
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    await jobs.dispatchQueued();
    await jobs.applyProgress([
      progress(job!.id, 0, RefreshState.SUCCEEDED),
      progress(job!.id, 1, RefreshState.FAILED, { detail: 'store unavailable' }),
    ]);
    const failed = await jobs.get(job!.id, ann);
    expect(failed).toMatchObject({ status: JobStatus.FAILED, error: 'store unavailable' });
    expect((await jobs.lastFailure())?.id).toBe(job!.id);
    expect((await jobs.segmentJobs('seg_a')).lastSucceededAtMs).toBeUndefined();
  });

  it('cancels a queued job at once, and a running one through membership', async () => {
    const { jobs, define, membership } = await setUp({
      settings: { timeoutMs: 60_000, lagBound: 100, lagMaxWaitMs: 30_000 },
    });
    define('seg_a');
    define('seg_b');
    // held back by upstream lag, it is still queued
    membership.lag = 500;
    const [queued] = await jobs.refreshNow(['seg_a'], ann);
    expect((await jobs.cancel(queued!.id, ann)).status).toBe(JobStatus.CANCELLED);
    membership.lag = 0;
    const [running] = await jobs.refreshNow(['seg_b'], ann);
    expect(membership.refreshes).toEqual([running?.id]);
    expect((await jobs.cancel(running!.id, ann)).cancelRequested).toBe(true);
    expect(membership.cancels).toEqual([running?.id]);
    await jobs.applyProgress([
      progress(running!.id, 0, RefreshState.CANCELLED),
      progress(running!.id, 1, RefreshState.CANCELLED),
    ]);
    expect((await jobs.get(running!.id, ann)).status).toBe(JobStatus.CANCELLED);
  });

  it('fails a job whose worker stops reporting for longer than the timeout', async () => {
    const { jobs, define, clock, membership } = await setUp();
    define('seg_a');
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    await jobs.dispatchQueued();
    clock.advance(30_000);
    await jobs.applyProgress([progress(job!.id, 0, RefreshState.RUNNING)]);
    clock.advance(60_000);
    await jobs.expireStalled();
    expect((await jobs.get(job!.id, ann)).status).toBe(JobStatus.RUNNING);
    clock.advance(1_000);
    await jobs.expireStalled();
    expect(await jobs.get(job!.id, ann)).toMatchObject({
      status: JobStatus.FAILED,
      error: 'no progress reported for 61 s',
    });
    expect(membership.cancels).toEqual([job?.id]);
  });

  it('times a job’s silence by its own clock, not by the worker’s report times', async () => {
    const { jobs, define, clock } = await setUp();
    define('seg_a');
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    await jobs.dispatchQueued();
    const behind = progress(job!.id, 0, RefreshState.RUNNING);
    behind.reportedAt = timestampFromMs(clock.now().getTime() - 3_600_000);
    await jobs.applyProgress([behind]);
    await jobs.expireStalled();
    expect((await jobs.get(job!.id, ann)).status).toBe(JobStatus.RUNNING);
  });

  it('waits for upstream lag below its bound, then runs with a warning once the wait is over', async () => {
    const { jobs, define, clock, membership } = await setUp({
      settings: { timeoutMs: 60_000, lagBound: 100, lagMaxWaitMs: 30_000 },
    });
    define('seg_a');
    membership.lag = 500;
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    await jobs.dispatchQueued();
    expect(membership.refreshes).toEqual([]);
    clock.advance(30_000);
    await jobs.dispatchQueued();
    expect(membership.refreshes).toEqual([job?.id]);
    expect((await jobs.get(job!.id, ann)).warnings).toEqual([
      'ran with upstream lag of 500 records, above the bound of 100, after waiting 30 s',
    ]);
  });

  it('runs at once, without a warning, when lag is within its bound', async () => {
    const { jobs, define, membership } = await setUp({
      settings: { timeoutMs: 60_000, lagBound: 100, lagMaxWaitMs: 30_000 },
    });
    define('seg_a');
    membership.lag = 100;
    const [job] = await jobs.refreshNow(['seg_a'], ann);
    await jobs.dispatchQueued();
    expect(membership.refreshes).toEqual([job?.id]);
    expect((await jobs.get(job!.id, ann)).warnings).toEqual([]);
  });

  it('makes one job of a schedule tick however often it is fired, and skips it while a refresh is active', async () => {
    const { jobs, define } = await setUp();
    const segment = define('seg_a');
    const tick = Date.UTC(2026, 11, 1, 4);
    const first = await jobs.tick(segment, tick);
    const again = await jobs.tick(segment, tick);
    expect(again?.id).toBe(first?.id);
    expect(first).toMatchObject({ trigger: JobTrigger.SCHEDULE, scheduledForMs: tick });
    const next = await jobs.tick(segment, tick + 4 * 3_600_000);
    expect(next).toMatchObject({ status: JobStatus.SKIPPED });
    expect(next?.error).toContain(first!.id);
  });

  it('refuses segments the caller may not see, may not edit, or that are lists', async () => {
    const { jobs, define } = await setUp();
    define('seg_private');
    define('seg_list', { kind: SegmentKind.STATIC_LIST });
    const hidden = await refusalOf(jobs.refreshNow(['seg_private'], eve), DomainError);
    expect(hidden.reason).toBe('SEGMENT_NOT_FOUND');
    define('seg_shared', { visibility: 2 });
    expect((await refusalOf(jobs.refreshNow(['seg_shared'], eve), DomainError)).reason).toBe(
      'SEGMENT_NOT_EDITABLE',
    );
    expect((await refusalOf(jobs.refreshNow(['seg_list'], ann), DomainError)).reason).toBe(
      'SEGMENT_NOT_REFRESHABLE',
    );
    expect((await refusalOf(jobs.refreshNow([], ann), DomainError)).reason).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('lists jobs newest first, only of segments the caller may see', async () => {
    const { jobs, define, clock } = await setUp();
    define('seg_a');
    define('seg_b', { visibility: 2 });
    define('seg_c');
    const made = [];
    for (const id of ['seg_a', 'seg_b', 'seg_c']) {
      made.push((await jobs.refreshNow([id], ann))[0]!.id);
      clock.advance(1_000);
    }
    const all = await jobs.list({ segmentId: '', statuses: [], limit: 10 }, ann);
    expect(all.map((j) => j.id)).toEqual([...made].reverse());
    const eves = await jobs.list({ segmentId: '', statuses: [], limit: 10 }, eve);
    expect(eves.map((j) => j.segmentId)).toEqual(['seg_b']);
  });

  describe('dispatch without waiting for a tick', () => {
    it('sends a RefreshNow’s command at once, the clock standing still', async () => {
      const { jobs, define, membership, repository, clock } = await setUp();
      define('seg_a');
      const asked = clock.now().getTime();
      const [job] = await jobs.refreshNow(['seg_a'], ann);
      expect(membership.refreshes).toEqual([job?.id]);
      expect(clock.now().getTime()).toBe(asked);
      expect(await repository.find(job!.id)).toMatchObject({
        status: JobStatus.QUEUED,
        dispatchedAtMs: asked,
        partitionCount: 2,
      });
    });

    it('sends a due schedule tick’s command at once', async () => {
      const { jobs, define, membership } = await setUp();
      const segment = define('seg_a');
      const job = await jobs.tick(segment, Date.UTC(2026, 11, 1, 4));
      expect(membership.refreshes).toEqual([job?.id]);
    });

    it('keeps the job’s record durable before its command goes out', async () => {
      const { jobs, define, membership, repository } = await setUp();
      define('seg_a');
      const seen: (number | undefined)[] = [];
      membership.onRefresh = async (jobId) => {
        seen.push((await repository.find(jobId))?.dispatchedAtMs);
      };
      await jobs.refreshNow(['seg_a'], ann);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeDefined();
    });

    it('sends a job waiting for another as soon as that one ends', async () => {
      const { jobs, define, membership } = await setUp();
      define('seg_base');
      define('seg_user', {
        rule: { condition: { kind: { case: 'inSegment', value: 'seg_base' } } },
      });
      const [base, user] = await jobs.refreshNow(['seg_user', 'seg_base'], ann);
      expect(membership.refreshes).toEqual([base?.id]);
      await jobs.applyProgress([
        progress(base!.id, 0, RefreshState.SUCCEEDED),
        progress(base!.id, 1, RefreshState.SUCCEEDED),
      ]);
      expect(membership.refreshes).toEqual([base?.id, user?.id]);
    });

    it('ends a job as soon as its last partition reports, without a tick', async () => {
      const { jobs, define, clock } = await setUp();
      define('seg_a');
      const [job] = await jobs.refreshNow(['seg_a'], ann);
      await jobs.applyProgress([
        progress(job!.id, 0, RefreshState.SUCCEEDED, { processed: 4, total: 4 }),
        progress(job!.id, 1, RefreshState.SUCCEEDED, { processed: 6, total: 6 }),
      ]);
      expect(await jobs.get(job!.id, ann)).toMatchObject({
        status: JobStatus.SUCCEEDED,
        finishedAtMs: clock.now().getTime(),
      });
      expect(await jobs.activeJobs()).toEqual([]);
    });

    it('sends a job’s command once when two scheduler instances dispatch it together', async () => {
      const { jobs, define, membership, repository, clock, catalogue } = await setUp({
        settings: { timeoutMs: 60_000, lagBound: 100, lagMaxWaitMs: 30_000 },
      });
      define('seg_a');
      membership.lag = 500;
      const [job] = await jobs.refreshNow(['seg_a'], ann);
      expect(membership.refreshes).toEqual([]);
      membership.lag = 0;
      const other = new JobsService(
        repository,
        membership,
        { timeoutMs: 60_000, lagBound: 100, lagMaxWaitMs: 30_000 },
        clock,
        pino({ level: 'silent' }),
        catalogue,
      );
      await Promise.all([jobs.dispatchQueued(), other.dispatchQueued()]);
      expect(membership.refreshes).toEqual([job?.id]);
    });

    it('leaves a job whose command could not be sent queued, and sends it at the next tick', async () => {
      const { jobs, define, membership, repository } = await setUp();
      define('seg_a');
      membership.onRefresh = async () => {
        throw new Error('the broker is unreachable');
      };
      const [job] = await jobs.refreshNow(['seg_a'], ann);
      expect(job?.status).toBe(JobStatus.QUEUED);
      expect((await repository.find(job!.id))?.dispatchedAtMs).toBeUndefined();
      membership.onRefresh = undefined;
      await jobs.dispatchQueued();
      expect(membership.refreshes).toEqual([job?.id]);
    });
  });

  describe('rule changes', () => {
    const ruleChange = (
      partition: number,
      state: RefreshState,
      figures: { entered?: number; exited?: number } = {},
    ) =>
      progress('seg_a@v2', partition, state, {
        ...figures,
        version: 2,
        ruleChange: true,
        total: 10,
        processed: state === RefreshState.RUNNING ? 0 : 10,
      });

    it('records membership’s re-evaluation after a rule change as a RULE_CHANGE job, summed to SUCCEEDED', async () => {
      const { jobs, define, repository, membership } = await setUp();
      define('seg_a', { version: 2n, updatedBy: 'bob' });
      await jobs.applyProgress([ruleChange(1, RefreshState.RUNNING)]);
      expect(await repository.find('seg_a@v2')).toMatchObject({
        status: JobStatus.RUNNING,
        trigger: JobTrigger.RULE_CHANGE,
        requestedBy: 'bob',
        segmentId: 'seg_a',
        partitionCount: 2,
      });
      expect((await jobs.segmentJobs('seg_a')).activeJobId).toBe('seg_a@v2');
      await jobs.applyProgress([
        ruleChange(0, RefreshState.RUNNING),
        ruleChange(0, RefreshState.SUCCEEDED, { entered: 2, exited: 1 }),
        ruleChange(1, RefreshState.SUCCEEDED, { entered: 1 }),
      ]);
      const done = await repository.find('seg_a@v2');
      expect(done?.status).toBe(JobStatus.SUCCEEDED);
      expect(totalsOf(done!)).toMatchObject({ entered: 3, exited: 1, processed: 20, total: 20 });
      // nothing was sent to membership: it ran the re-evaluation by itself
      await jobs.dispatchQueued();
      expect(membership.refreshes).toEqual([]);
      expect(await jobs.activeJobs()).toEqual([]);
    });

    it('makes one job of a rule change whichever partition reports first, however often', async () => {
      const { jobs, define, repository } = await setUp();
      define('seg_a', { version: 2n });
      const running = ruleChange(0, RefreshState.RUNNING);
      await jobs.applyProgress([running, ruleChange(1, RefreshState.RUNNING), running]);
      const { jobs: listed } = { jobs: await repository.list({ statuses: [], limit: 10 }) };
      expect(listed.map((j) => j.id)).toEqual(['seg_a@v2']);
    });

    it('is the one running job of its segment: it supersedes an active refresh, and a request joins it', async () => {
      const { jobs, define, repository, membership } = await setUp();
      define('seg_a', { version: 2n });
      const [manual] = await jobs.refreshNow(['seg_a'], ann);
      await jobs.dispatchQueued();
      await jobs.applyProgress([ruleChange(0, RefreshState.RUNNING)]);
      expect(await repository.find(manual!.id)).toMatchObject({
        status: JobStatus.CANCELLED,
        error: 'superseded by the rule change to version 2 (job seg_a@v2)',
      });
      expect(membership.cancels).toEqual([manual!.id]);
      expect((await jobs.segmentJobs('seg_a')).activeJobId).toBe('seg_a@v2');
      const [joined] = await jobs.refreshNow(['seg_a'], ann);
      expect(joined?.id).toBe('seg_a@v2');
    });

    it('answers a cancel of a rule change as it is: its re-evaluation is not stopped', async () => {
      const { jobs, define, membership } = await setUp();
      define('seg_a', { version: 2n });
      await jobs.applyProgress([ruleChange(0, RefreshState.RUNNING)]);
      const answered = await jobs.cancel('seg_a@v2', ann);
      expect([answered.status, answered.cancelRequested]).toEqual([JobStatus.RUNNING, false]);
      expect(membership.cancels).toEqual([]);
    });

    it('does not record a rule change again once its job ended', async () => {
      const { jobs, define, repository } = await setUp();
      define('seg_a', { version: 2n });
      await jobs.applyProgress([
        ruleChange(0, RefreshState.SUCCEEDED),
        ruleChange(1, RefreshState.SUCCEEDED),
      ]);
      // a partition re-applied the version after a restart and reports it again
      await jobs.applyProgress([ruleChange(0, RefreshState.RUNNING)]);
      expect((await repository.find('seg_a@v2'))?.status).toBe(JobStatus.SUCCEEDED);
      expect((await jobs.segmentJobs('seg_a')).activeJobId).toBeUndefined();
    });
  });
});
