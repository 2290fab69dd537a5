import { fromBinary, fromJson } from '@bufbuild/protobuf';
import { type Timestamp, timestampDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  RefreshMode,
  RuleSchema,
  SchedulerService,
  SegmentKind,
  SegmentSchema,
  SegmentService,
  Visibility,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import { GrpcCallError, type RunningService, createGrpcClient } from '@shoal/platform';
import {
  type LaunchedProcess,
  TestScope,
  eventually,
  freePort,
  refusalOf,
  startServiceProcess,
} from '@shoal/testing';
import { schedulerService } from '../src/service';

const RULE = fromJson(RuleSchema, { condition: { trait: { path: 'plan', equals: 'gold' } } });
const PARIS_NINE = { cron: '0 9 * * *', timeZone: 'Europe/Paris' };
const TOKYO_WEEKDAYS = { cron: '30 6 * * 1-5', timeZone: 'Asia/Tokyo' };

/** 06:30 in Tokyo (21:30 UTC the day before), Monday to Friday there. */
const isTokyoWeekdayMorning = (run: Timestamp) => {
  const tokyo = new Date(timestampDate(run).getTime() + 9 * 3_600_000);
  return tokyo.getUTCHours() === 6 && tokyo.getUTCMinutes() === 30 && tokyo.getUTCDay() % 6 !== 0;
};

describe('SetSchedule of a segment, through the segments service', () => {
  const scope = new TestScope();
  let segmentsProcess: LaunchedProcess;
  let segmentsAddress = '';
  let scheduler: RunningService;

  const token = (subject: string) => scope.token({ subject, groups: ['marketing'] });
  /** The segments service as `subject` calls it. */
  const segmentsAs = async (subject: string) => {
    const userToken = await token(subject);
    const client = createGrpcClient(SegmentService, {
      address: segmentsAddress,
      token: () => userToken,
      deadlineMs: 10_000,
    });
    clients.push(client);
    return client;
  };
  const schedulerAs = async (subject: string) =>
    scope.client(SchedulerService, scheduler, await token(subject));
  const clients: { close(): void }[] = [];

  /** A dynamic segment of ann's. */
  const created = async (
    name: string,
    refresh: { mode: RefreshMode; cron?: string; timeZone?: string },
    visibility = Visibility.PRIVATE,
  ) => {
    const { segment } = await (
      await segmentsAs('ann')
    ).createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: { name, description: 'kept as it is', rule: RULE, refresh, visibility },
    });
    return segment?.id as string;
  };

  /** Every version of a segment published on the definitions topic so far. */
  const published = async (segmentId: string) =>
    (await scope.readTopicToEnd(segmentDefinitionsTopic))
      .filter((m) => m.key?.toString() === segmentId && m.value)
      .map((m) => fromBinary(SegmentSchema, m.value as Buffer));

  beforeAll(async () => {
    const grpcPort = await freePort();
    const httpPort = await freePort();
    segmentsAddress = `127.0.0.1:${grpcPort}`;
    segmentsProcess = await startServiceProcess({
      name: 'segments',
      env: scope.env('segments'),
      grpcPort,
      httpPort,
      logFile: join(tmpdir(), `shoal-scheduler-int-${scope.id}-segments.log`),
    });
    scheduler = await scope.start(schedulerService, {
      SCHEDULER_SEGMENTS_ADDRESS: segmentsAddress,
      SCHEDULER_READINESS_URLS: `segments=http://127.0.0.1:${httpPort}/readyz`,
    });
  }, 180_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await scope.close();
    await segmentsProcess?.kill('SIGKILL');
  });

  it('changes the segment’s refresh policy as a new version, which the scheduler follows; an empty cron gives it back to the default', async () => {
    const id = await created('Morning refresh', { mode: RefreshMode.SCHEDULED, ...PARIS_NINE });
    const ann = await schedulerAs('ann');
    await eventually(async () => {
      const answer = await ann.getSchedule({ segmentId: id });
      expect(answer.schedule).toMatchObject(PARIS_NINE);
    }, 30_000);

    const set = await ann.setSchedule({ segmentId: id, schedule: TOKYO_WEEKDAYS });
    expect(set.schedule).toMatchObject(TOKYO_WEEKDAYS);
    expect(set.isDefault).toBe(false);
    expect(set.nextRuns).toHaveLength(5);
    expect(set.nextRuns.every(isTokyoWeekdayMorning)).toBe(true);

    const { segment } = await (await segmentsAs('ann')).getSegment({ id });
    expect(segment).toMatchObject({
      version: 2n,
      description: 'kept as it is',
      refresh: { mode: RefreshMode.SCHEDULED, ...TOKYO_WEEKDAYS },
      updatedBy: 'ann',
    });
    await eventually(async () => {
      const versions = await published(id);
      expect(versions.at(-1)).toMatchObject({ version: 2n, refresh: TOKYO_WEEKDAYS });
    }, 30_000);
    const followed = await eventually(async () => {
      const answer = await ann.getSchedule({ segmentId: id });
      expect(answer).toMatchObject({ schedule: TOKYO_WEEKDAYS, isDefault: false });
      return answer;
    }, 30_000);
    expect(followed.nextRuns).toHaveLength(5);
    expect(followed.nextRuns.every(isTokyoWeekdayMorning)).toBe(true);

    const reset = await ann.setSchedule({ segmentId: id, schedule: { cron: '', timeZone: '' } });
    expect(reset.schedule).toMatchObject({ cron: '0 */4 * * *', timeZone: '' });
    expect(reset.isDefault).toBe(true);
    const after = await (await segmentsAs('ann')).getSegment({ id });
    expect(after.segment?.refresh).toMatchObject({
      mode: RefreshMode.SCHEDULED,
      cron: '',
      timeZone: '',
    });
    expect(after.segment?.version).toBe(3n);
    await eventually(async () => {
      const answer = await ann.getSchedule({ segmentId: id });
      expect(answer).toMatchObject({ schedule: { cron: '0 */4 * * *' }, isDefault: true });
    }, 30_000);
  });

  it('answers as the segments service does: another user’s private segment is NOT_FOUND, a shared one they may not edit PERMISSION_DENIED, a locked one FAILED_PRECONDITION', async () => {
    const hidden = await created('Ann only', { mode: RefreshMode.SCHEDULED, ...PARIS_NINE });
    const shared = await created(
      'Ann’s, shared',
      { mode: RefreshMode.SCHEDULED, ...PARIS_NINE },
      Visibility.SHARED,
    );
    const eve = await schedulerAs('eve');
    const unseen = await refusalOf(
      eve.setSchedule({ segmentId: hidden, schedule: TOKYO_WEEKDAYS }),
      GrpcCallError,
    );
    expect([status[unseen.code], unseen.reason]).toEqual(['NOT_FOUND', 'SEGMENT_NOT_FOUND']);
    const notEditor = await refusalOf(
      eve.setSchedule({ segmentId: shared, schedule: TOKYO_WEEKDAYS }),
      GrpcCallError,
    );
    expect(status[notEditor.code]).toBe('PERMISSION_DENIED');

    const exporterToken = await scope.token({ subject: 'service:exporter', service: 'exporter' });
    const exporter = createGrpcClient(SegmentService, {
      address: segmentsAddress,
      token: () => exporterToken,
      deadlineMs: 10_000,
    });
    clients.push(exporter);
    await exporter.setDestinationUsage({
      segmentId: shared,
      destinationId: 'dst_sync',
      destinationName: 'nightly sync',
      autoSync: true,
      inUse: true,
    });
    const locked = await refusalOf(
      (await schedulerAs('ann')).setSchedule({ segmentId: shared, schedule: TOKYO_WEEKDAYS }),
      GrpcCallError,
    );
    expect([status[locked.code], locked.reason]).toEqual(['FAILED_PRECONDITION', 'SEGMENT_LOCKED']);

    // the lock itself is a change of the segment (a version); the schedule is not
    const segments = await segmentsAs('ann');
    expect((await segments.getSegment({ id: hidden })).segment).toMatchObject({
      version: 1n,
      refresh: PARIS_NINE,
    });
    expect((await segments.getSegment({ id: shared })).segment).toMatchObject({
      lock: { locked: true },
      refresh: PARIS_NINE,
    });
  });

  it('refuses a MANUAL segment with FAILED_PRECONDITION and a bad cron at schedule.cron, changing neither', async () => {
    const manual = await created('By hand', { mode: RefreshMode.MANUAL });
    const scheduled = await created('Scheduled', { mode: RefreshMode.SCHEDULED, ...PARIS_NINE });
    const ann = await schedulerAs('ann');
    const notScheduled = await refusalOf(
      ann.setSchedule({ segmentId: manual, schedule: TOKYO_WEEKDAYS }),
      GrpcCallError,
    );
    expect([status[notScheduled.code], notScheduled.reason]).toEqual([
      'FAILED_PRECONDITION',
      'SEGMENT_NOT_SCHEDULED',
    ]);
    const invalid = await refusalOf(
      ann.setSchedule({ segmentId: scheduled, schedule: { cron: '0 25 * * *', timeZone: '' } }),
      GrpcCallError,
    );
    expect(status[invalid.code]).toBe('INVALID_ARGUMENT');
    expect(invalid.violations.map((v) => v.field)).toEqual(['schedule.cron']);
    const segments = await segmentsAs('ann');
    for (const id of [manual, scheduled])
      expect((await segments.getSegment({ id })).segment?.version).toBe(1n);
  });
});
