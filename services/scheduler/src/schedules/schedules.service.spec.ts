import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  JobStatus,
  RefreshMode,
  SegmentKind,
  SegmentState,
  SegmentStatus,
  Visibility,
} from '@shoal/contracts';
import { DomainError, ErrorKind, type Principal } from '@shoal/platform';
import { refusalOf } from '@shoal/testing';
import { ann, eve, newSchedulerTestService } from '../../test/scheduler-test-service';
import { DEFAULT_SCHEDULE } from './schedule';
import type { OnBehalfOf } from './segment-definitions.port';
import { SchedulesService } from './schedules.service';

const CREATED = '2026-12-01T01:30:00Z';
const HOUR = 3_600_000;
const ops: Principal = { subject: 'olga', groups: ['ops'], kind: 'user' };
/** A call made by `principal` with their own token. */
const as = (principal: Principal): OnBehalfOf => ({
  principal,
  authorization: `Bearer token-of-${principal.subject}`,
});
const isoOf = (dates: Date[]) => dates.map((d) => d.toISOString());

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
    const set = await sut.set('', { cron: '0 2 * * *', timeZone: '' }, as(ops));
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

  it('refuses a bad default with the reason, and users outside the admin groups', async () => {
    const { sut } = await setUp();
    const bad = await refusalOf(
      sut.set('', { cron: '0 25 * * *', timeZone: '' }, as(ops)),
      DomainError,
    );
    expect(bad.reason).toBe('INVALID_ARGUMENT');
    expect(bad.violations[0]?.field).toBe('schedule.cron');
    expect(bad.violations[0]?.description).toContain('is not a valid cron expression');
    const zone = await refusalOf(
      sut.set('', { cron: '0 2 * * *', timeZone: 'Nowhere/Land' }, as(ops)),
      DomainError,
    );
    expect(zone.violations[0]?.field).toBe('schedule.timeZone');
    expect(
      (await refusalOf(sut.set('', { cron: '0 2 * * *', timeZone: '' }, as(ann)), DomainError))
        .reason,
    ).toBe('SCHEDULE_ADMIN_ONLY');
  });
});

describe('SchedulesService: a segment’s own schedule', () => {
  it('sets a SCHEDULED segment’s cron and time zone in its definition, as the caller, and answers with its next runs', async () => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_a');
    const set = await sut.set('seg_a', { cron: ' 30 6 * * 1-5 ', timeZone: 'Asia/Tokyo' }, as(ann));
    expect(definitions.changes).toEqual([
      {
        segmentId: 'seg_a',
        refresh: expect.objectContaining({
          mode: RefreshMode.SCHEDULED,
          cron: '30 6 * * 1-5',
          timeZone: 'Asia/Tokyo',
        }),
        authorization: 'Bearer token-of-ann',
      },
    ]);
    expect(set).toMatchObject({
      mode: RefreshMode.SCHEDULED,
      schedule: { cron: '30 6 * * 1-5', timeZone: 'Asia/Tokyo' },
      isDefault: false,
    });
    // 06:30 in Tokyo on weekdays, from Tuesday 2026-12-01 01:30 UTC (10:30 there)
    expect(isoOf(set.nextRuns).slice(0, 3)).toEqual([
      '2026-12-01T21:30:00.000Z',
      '2026-12-02T21:30:00.000Z',
      '2026-12-03T21:30:00.000Z',
    ]);
    expect(definitions.segments.get('seg_a')?.version).toBe(2n);
  });

  it('clears a segment’s own schedule with an empty cron: it follows the default again', async () => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_a');
    const set = await sut.set('seg_a', { cron: '', timeZone: '' }, as(ann));
    expect(definitions.segments.get('seg_a')?.refresh).toMatchObject({
      mode: RefreshMode.SCHEDULED,
      cron: '',
      timeZone: '',
    });
    expect(set).toMatchObject({ isDefault: true, schedule: DEFAULT_SCHEDULE });
    expect(isoOf(set.nextRuns).slice(0, 2)).toEqual([
      '2026-12-01T04:00:00.000Z',
      '2026-12-01T08:00:00.000Z',
    ]);
  });

  it('answers an inactive or draft segment’s new schedule without next runs', async () => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_off', { status: SegmentStatus.INACTIVE });
    definitions.add('seg_draft', { state: SegmentState.DRAFT });
    for (const id of ['seg_off', 'seg_draft'])
      expect(await sut.set(id, { cron: '0 2 * * *', timeZone: '' }, as(ann))).toMatchObject({
        schedule: { cron: '0 2 * * *' },
        isDefault: false,
        nextRuns: [],
      });
  });

  it.each([
    [
      'a REALTIME segment',
      { refresh: { mode: RefreshMode.REALTIME } },
      /is REALTIME, not SCHEDULED/,
    ],
    ['a segment with no refresh policy', { refresh: undefined }, /is REALTIME, not SCHEDULED/],
    ['a MANUAL segment', { refresh: { mode: RefreshMode.MANUAL } }, /is MANUAL, not SCHEDULED/],
    [
      'a static list',
      { kind: SegmentKind.STATIC_LIST, rule: undefined, refresh: undefined },
      /is a static list/,
    ],
  ])('refuses %s with FAILED_PRECONDITION and changes nothing', async (_, init, message) => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_x', init);
    const refused = await refusalOf(
      sut.set('seg_x', { cron: '0 2 * * *', timeZone: '' }, as(ann)),
      DomainError,
    );
    expect(refused).toMatchObject({
      kind: ErrorKind.FailedPrecondition,
      reason: 'SEGMENT_NOT_SCHEDULED',
    });
    expect(refused.message).toMatch(message);
    expect(definitions.changes).toEqual([]);
    expect(definitions.segments.get('seg_x')?.version).toBe(1n);
  });

  it('passes on what the segments service refuses, as it refused it', async () => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_private');
    definitions.add('seg_shared', { visibility: Visibility.SHARED });
    const schedule = { cron: '0 2 * * *', timeZone: '' };
    expect(await refusalOf(sut.set('seg_private', schedule, as(eve)), DomainError)).toMatchObject({
      kind: ErrorKind.NotFound,
      reason: 'SEGMENT_NOT_FOUND',
    });
    expect(await refusalOf(sut.set('seg_shared', schedule, as(eve)), DomainError)).toMatchObject({
      kind: ErrorKind.PermissionDenied,
      reason: 'SEGMENT_EDITORS_ONLY',
    });
    const locked = new DomainError(
      ErrorKind.FailedPrecondition,
      'SEGMENT_LOCKED',
      'segment seg_private is locked while auto-syncing destinations use it (dst_1)',
      [{ field: 'id', description: 'locked' }],
    );
    definitions.beforeNextSet = () => {
      throw locked;
    };
    expect(await refusalOf(sut.set('seg_private', schedule, as(ann)), DomainError)).toBe(locked);
    expect(definitions.changes).toEqual([]);
  });

  it.each([
    [{ cron: '0 25 * * *', timeZone: '' }, 'schedule.cron', /is not a valid cron expression/],
    [{ cron: '0 */4 * *', timeZone: '' }, 'schedule.cron', /needs five fields/],
    [{ cron: '0 2 * * *', timeZone: 'Nowhere/Land' }, 'schedule.timeZone', /IANA time zone/],
    [{ cron: '', timeZone: 'Europe/Paris' }, 'schedule.timeZone', /cron of the segment’s own/],
  ])(
    'refuses %j at its field before asking the segments service',
    async (schedule, field, description) => {
      const { sut } = await setUp();
      // an unknown segment: asking the segments service first would make it NOT_FOUND
      const refused = await refusalOf(sut.set('seg_unknown', schedule, as(ann)), DomainError);
      expect(refused.kind).toBe(ErrorKind.InvalidArgument);
      expect(refused.violations).toEqual([
        { field, description: expect.stringMatching(description) },
      ]);
    },
  );

  it('sets the schedule on the latest version when someone else changed the segment meanwhile', async () => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_a');
    definitions.beforeNextSet = () => definitions.edit('seg_a', { description: 'edited' });
    const set = await sut.set('seg_a', { cron: '0 2 * * *', timeZone: '' }, as(ann));
    expect(set.schedule).toEqual({ cron: '0 2 * * *', timeZone: '' });
    expect(definitions.segments.get('seg_a')).toMatchObject({
      version: 3n,
      description: 'edited',
      refresh: { cron: '0 2 * * *' },
    });
  });

  it('refuses when the segment stopped being SCHEDULED meanwhile, and does not change its mode back', async () => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_a');
    definitions.beforeNextSet = () =>
      definitions.edit('seg_a', { refresh: { mode: RefreshMode.MANUAL } });
    expect(
      await refusalOf(sut.set('seg_a', { cron: '0 2 * * *', timeZone: '' }, as(ann)), DomainError),
    ).toMatchObject({ reason: 'SEGMENT_NOT_SCHEDULED' });
    expect(definitions.segments.get('seg_a')?.refresh?.mode).toBe(RefreshMode.MANUAL);
  });

  it('gives up after a few conflicts in a row, with the segments service’s ABORTED', async () => {
    const { sut, definitions } = await setUp();
    definitions.add('seg_a');
    const someoneElse = () => {
      definitions.edit('seg_a', {
        description: `edit at v${definitions.segments.get('seg_a')?.version}`,
      });
      definitions.beforeNextSet = someoneElse;
    };
    definitions.beforeNextSet = someoneElse;
    expect(
      await refusalOf(sut.set('seg_a', { cron: '0 2 * * *', timeZone: '' }, as(ann)), DomainError),
    ).toMatchObject({ kind: ErrorKind.Aborted, reason: 'SEGMENT_VERSION_CONFLICT' });
    expect(definitions.changes).toEqual([]);
  });
});
