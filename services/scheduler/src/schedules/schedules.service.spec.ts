import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { JobStatus, RefreshMode, SegmentState, SegmentStatus } from '@shoal/contracts';
import { DomainError, type Principal } from '@shoal/platform';
import { refusalOf } from '@shoal/testing';
import { ann, newSchedulerTestService } from '../../test/scheduler-test-service';
import { SchedulesService } from './schedules.service';

const CREATED = '2026-12-01T01:30:00Z';
const HOUR = 3_600_000;
const ops: Principal = { subject: 'olga', groups: ['ops'], kind: 'user' };

async function setUp() {
  const test = await newSchedulerTestService(SchedulesService, { now: CREATED });
  const scheduled = (
    id: string,
    refresh: { cron?: string; timeZone?: string } = {},
    status = SegmentStatus.ACTIVE,
  ) =>
    test.define(id, {
      refresh: { mode: RefreshMode.SCHEDULED, ...refresh },
      status,
      createdAt: timestampFromMs(Date.parse(CREATED)),
    });
  const jobsOf = (segmentId: string) =>
    [...test.repository.jobs.values()]
      .filter((j) => j.segmentId === segmentId)
      .map((j) => [new Date(j.scheduledForMs ?? 0).toISOString(), j.status]);
  const finishAll = async () => {
    for (const job of await test.jobs.activeJobs())
      await test.repository.update(job.id, [JobStatus.QUEUED], { status: JobStatus.SUCCEEDED });
    for (const job of test.repository.jobs.values())
      await test.repository.releaseSegment(job.segmentId, job);
  };
  return { ...test, scheduled, jobsOf, finishAll };
}

describe('SchedulesService', () => {
  it('fires a segment on the 4-hour default, one job per tick', async () => {
    const { sut, clock, scheduled, jobsOf, finishAll } = await setUp();
    scheduled('seg_a');
    await sut.tick();
    expect(jobsOf('seg_a')).toEqual([]);
    clock.advance(2.5 * HOUR); // 04:00
    await sut.tick();
    await sut.tick();
    expect(jobsOf('seg_a')).toEqual([['2026-12-01T04:00:00.000Z', JobStatus.QUEUED]]);
    await finishAll();
    clock.advance(4 * HOUR); // 08:00
    await sut.tick();
    expect(jobsOf('seg_a')).toHaveLength(2);
  });

  it('runs ticks missed while it was down once, for the latest', async () => {
    const { sut, clock, scheduled, jobsOf } = await setUp();
    scheduled('seg_a');
    clock.advance(13 * HOUR); // 14:30: 04:00, 08:00 and 12:00 were missed
    await sut.tick();
    expect(jobsOf('seg_a')).toEqual([['2026-12-01T12:00:00.000Z', JobStatus.QUEUED]]);
  });

  it('reads a segment’s own cron in its time zone', async () => {
    const { sut, clock, scheduled, jobsOf } = await setUp();
    scheduled('seg_a', { cron: '0 9 * * *', timeZone: 'Asia/Tokyo' }); // 00:00 UTC
    clock.advance(22 * HOUR); // 23:30 UTC
    await sut.tick();
    expect(jobsOf('seg_a')).toEqual([]);
    clock.advance(HOUR);
    await sut.tick();
    expect(jobsOf('seg_a')).toEqual([['2026-12-02T00:00:00.000Z', JobStatus.QUEUED]]);
  });

  it('records an inactive segment’s tick as SKIPPED, and never schedules manual, realtime or draft ones', async () => {
    const { sut, clock, scheduled, define, jobsOf } = await setUp();
    scheduled('seg_off', {}, SegmentStatus.INACTIVE);
    define('seg_manual', { refresh: { mode: RefreshMode.MANUAL } });
    define('seg_live', { refresh: { mode: RefreshMode.REALTIME } });
    define('seg_draft', { refresh: { mode: RefreshMode.SCHEDULED }, state: SegmentState.DRAFT });
    clock.advance(3 * HOUR);
    await sut.tick();
    expect(jobsOf('seg_off')).toEqual([['2026-12-01T04:00:00.000Z', JobStatus.SKIPPED]]);
    expect([...jobsOf('seg_manual'), ...jobsOf('seg_live'), ...jobsOf('seg_draft')]).toEqual([]);
  });

  it('follows a changed default schedule', async () => {
    const { sut, clock, scheduled, jobsOf } = await setUp();
    scheduled('seg_a');
    await sut.tick();
    const set = await sut.set('', { cron: '0 2 * * *', timeZone: '' }, ops);
    expect(set.nextRuns[0]?.toISOString()).toBe('2026-12-01T02:00:00.000Z');
    clock.advance(HOUR);
    await sut.tick();
    expect(jobsOf('seg_a')).toEqual([['2026-12-01T02:00:00.000Z', JobStatus.QUEUED]]);
  });

  it('shows a segment’s effective schedule and next runs', async () => {
    const { sut, scheduled, define } = await setUp();
    scheduled('seg_a');
    scheduled('seg_own', { cron: '30 6 * * 1-5', timeZone: 'Europe/Paris' });
    define('seg_manual', { refresh: { mode: RefreshMode.MANUAL } });
    const byDefault = await sut.get('seg_a', ann);
    expect(byDefault).toMatchObject({ isDefault: true, schedule: { cron: '0 */4 * * *' } });
    expect(byDefault.nextRuns.map((d) => d.toISOString()).slice(0, 2)).toEqual([
      '2026-12-01T04:00:00.000Z',
      '2026-12-01T08:00:00.000Z',
    ]);
    expect(await sut.get('seg_own', ann)).toMatchObject({
      isDefault: false,
      schedule: { timeZone: 'Europe/Paris' },
    });
    expect(await sut.get('seg_manual', ann)).toMatchObject({
      mode: RefreshMode.MANUAL,
      nextRuns: [],
    });
  });

  it('refuses a bad default with the reason, users outside the admin groups, and per-segment changes', async () => {
    const { sut, scheduled } = await setUp();
    scheduled('seg_a');
    const bad = await refusalOf(
      sut.set('', { cron: '0 25 * * *', timeZone: '' }, ops),
      DomainError,
    );
    expect(bad.reason).toBe('INVALID_ARGUMENT');
    expect(bad.violations[0]?.field).toBe('schedule.cron');
    expect(bad.violations[0]?.description).toContain('is not a valid cron expression');
    const zone = await refusalOf(
      sut.set('', { cron: '0 2 * * *', timeZone: 'Nowhere/Land' }, ops),
      DomainError,
    );
    expect(zone.violations[0]?.field).toBe('schedule.timeZone');
    expect(
      (await refusalOf(sut.set('', { cron: '0 2 * * *', timeZone: '' }, ann), DomainError)).reason,
    ).toBe('SCHEDULE_ADMIN_ONLY');
    expect(
      (await refusalOf(sut.set('seg_a', { cron: '0 2 * * *', timeZone: '' }, ann), DomainError))
        .reason,
    ).toBe('SCHEDULE_IN_DEFINITION');
  });
});
