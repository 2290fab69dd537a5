import { create } from '@bufbuild/protobuf';
import {
  JobStatus,
  RefreshMode,
  SchedulerService,
  SegmentKind,
  SegmentStatus,
  Visibility,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import type { RunningService } from '@shoal/platform';
import {
  type FuzzTarget,
  TestScope,
  eventually,
  fuzzCallers,
  fuzzUserToken,
  itAnswersArbitraryRequests,
} from '@shoal/testing';
import { TimestampSchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { schedulerService } from '../src/service';
import { SchedulerHarness } from './scheduler-harness';

const GOLD = { condition: { trait: { path: 'plan', equals: 'gold' } } };
const DAY_MS = 86_400_000;

/**
 * Segments of every kind the scheduler meets: a scheduled one with its own cron, one on the
 * default schedule, a manual one, ann's private one, an inactive one, a static list and one
 * deleted.
 */
const SEGMENTS = {
  scheduled: 'seg_fz_scheduled',
  defaultSchedule: 'seg_fz_default',
  manual: 'seg_fz_manual',
  private: 'seg_fz_private',
  inactive: 'seg_fz_inactive',
  list: 'seg_fz_list',
  deleted: 'seg_fz_deleted',
} as const;

const CRONS = ['0 */4 * * *', '*/5 * * * *', '0 0 1 1 *', '30 2 * * 1-5', '0 0 29 2 *'];
const TIME_ZONES = ['', 'UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];

/** Answers only a use case gives: a success, or a refusal after reading what the request names. */
const USE_CASE_ANSWERS = [
  'OK',
  'NOT_FOUND',
  'FAILED_PRECONDITION',
  'PERMISSION_DENIED',
  'ALREADY_EXISTS',
] as const;

describe('SchedulerService and health under arbitrary requests', () => {
  const scope = new TestScope();
  const harness = new SchedulerHarness(scope);
  let scheduler: RunningService;
  let target: FuzzTarget;

  beforeAll(async () => {
    scheduler = await scope.start(schedulerService, {
      SCHEDULER_TICK_MS: '200',
      SCHEDULER_LEASE_MS: '2000',
      SCHEDULER_JOB_TIMEOUT_MS: '5000',
      SCHEDULER_ADMIN_GROUPS: 'ops',
      // nothing listens there: readiness answers "not ready" at once
      SCHEDULER_READINESS_URLS: 'membership=http://127.0.0.1:9/readyz',
    });
    const scheduled = { mode: RefreshMode.SCHEDULED };
    await harness.define(SEGMENTS.scheduled, GOLD, {
      refresh: { ...scheduled, cron: '0 */4 * * *', timeZone: 'Europe/Berlin' },
      hiddenFrom: { groups: ['sales'] },
    });
    await harness.define(SEGMENTS.defaultSchedule, GOLD, { refresh: scheduled });
    await harness.define(SEGMENTS.manual, GOLD, { refresh: { mode: RefreshMode.MANUAL } });
    await harness.define(SEGMENTS.private, GOLD, { visibility: Visibility.PRIVATE });
    await harness.define(SEGMENTS.inactive, GOLD, {
      refresh: scheduled,
      status: SegmentStatus.INACTIVE,
    });
    await harness.define(SEGMENTS.list, {}, { kind: SegmentKind.STATIC_LIST });
    await harness.define(SEGMENTS.deleted, GOLD);
    const callers = await fuzzCallers(scope, [
      { subject: 'ann', groups: ['marketing'] },
      { subject: 'eve', groups: ['sales'] },
      { subject: 'olga', groups: ['ops'] },
    ]);
    const ann = scope.client(SchedulerService, scheduler, fuzzUserToken(callers, 'ann'));
    const { jobs } = await eventually(() =>
      ann.refreshNow({ segmentIds: [SEGMENTS.manual, SEGMENTS.private] }),
    );
    await scope.produce(segmentDefinitionsTopic, [{ key: SEGMENTS.deleted, value: null }]);
    await ann.refreshNow({ segmentIds: [SEGMENTS.manual] }).catch(() => undefined);
    const jobIds = jobs.map((j) => j.id);
    const pageTokens = [
      (await ann.listJobs({ page: { pageSize: 1 } })).nextPageToken,
      (await ann.listJobs({ segmentId: SEGMENTS.manual, page: { pageSize: 1 } })).nextPageToken,
    ].filter(Boolean);
    const ids = Object.values(SEGMENTS);
    const now = Date.now();
    const day = fc
      .integer({ min: -40, max: 5 })
      .map((offset) => new Date(now + offset * DAY_MS).toISOString().slice(0, 10));
    const instant = fc
      .integer({ min: -40, max: 5 })
      .map((offset) => create(TimestampSchema, timestampFromMs(now + offset * DAY_MS)));
    target = {
      service: SchedulerService,
      address: `127.0.0.1:${scheduler.grpcPort}`,
      callers,
      strings: [...ids, ...jobIds, ...pageTokens, ...CRONS, ...TIME_ZONES.filter(Boolean)],
      known: {
        fields: {
          segment_id: fc.constantFrom(...ids),
          segment_ids: fc.subarray(ids, { minLength: 1, maxLength: 3 }),
          job_id: fc.constantFrom(...jobIds),
          cron: fc.constantFrom(...CRONS),
          time_zone: fc.constantFrom(...TIME_ZONES),
          from_day: day,
          to_day: day,
          page_token: fc.constantFrom(...pageTokens),
          page_size: fc.integer({ min: 1, max: 3 }),
          statuses: fc.subarray([JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED]),
          created_after: instant,
          created_before: instant,
        },
      },
    };
  }, 120_000);
  afterAll(() => scope.close());

  itAnswersArbitraryRequests(SchedulerService, () => target, USE_CASE_ANSWERS);
});
