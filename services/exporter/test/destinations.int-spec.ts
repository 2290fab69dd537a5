import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromJson, toBinary } from '@bufbuild/protobuf';
import {
  ExportService,
  FileFormat,
  RefreshProgressSchema,
  RefreshState,
  RuleSchema,
  SegmentKind,
  SegmentService,
  SyncMode,
  SyncRunKind,
  SyncRunStatus,
  type TopicSpec,
  TransitionKind,
  Visibility,
  exporterDeadLetterTopic,
  jobProgressTopic,
  membershipChangesTopic,
} from '@shoal/contracts';
import {
  GrpcCallError,
  type GrpcClient,
  type RunningService,
  createGrpcClient,
  waitUntil,
} from '@shoal/platform';
import { type LaunchedProcess, TestScope, freePort, startServiceProcess } from '@shoal/testing';
import { parse } from 'csv-parse/sync';
import { exporterService } from '../src/service';
import { webhookSignature } from '../src/destinations/webhook.destination';
import { buildForProcesses } from './built-services';
import { PeerStubs, awkwardProfile, memberId } from './peer-stubs';
import { transitionRecord } from './topic-records';
import { fastSyncEnv } from './sync-env';
import { type Answer, WebhookReceiver } from './webhook-receiver';

jest.setTimeout(180_000);

const SECRET = 'whsec-0123456789abcdef';
const RULE = fromJson(RuleSchema, { condition: { hasTag: 'vip' } });

describe('destinations', () => {
  const scope = new TestScope();
  const receiver = new WebhookReceiver();
  const logs = mkdtempSync(join(tmpdir(), 'exporter-destinations-'));
  const files = mkdtempSync(join(tmpdir(), 'exporter-files-'));
  /** Members of the shared segment as membership lists them (for full syncs). */
  const FULL_MEMBERS = 5;
  const stubs = new PeerStubs(
    (segmentId) => (segmentId === shared ? FULL_MEMBERS : 0),
    (index) => (Number.isInteger(index) ? awkwardProfile(index) : undefined),
  );
  let segmentsProcess: LaunchedProcess;
  let exporter: RunningService;
  let exporterEnv: Record<string, string>;
  let segments: GrpcClient<typeof SegmentService>;
  let exports: GrpcClient<typeof ExportService>;
  let shared = '';
  let secondShared = '';
  let privateId = '';

  beforeAll(async () => {
    await buildForProcesses([
      '@shoal/contracts',
      '@shoal/platform',
      '@shoal/rules',
      '@shoal/segments',
    ]);
    const segmentsPort = await freePort();
    segmentsProcess = await startServiceProcess({
      name: 'segments',
      env: scope.env('segments'),
      grpcPort: segmentsPort,
      httpPort: await freePort(),
      logFile: join(logs, 'segments.log'),
    });
    await receiver.start();
    const peers = await stubs.start();
    exporterEnv = fastSyncEnv(peers, {
      EXPORTER_SEGMENTS_ADDRESS: `127.0.0.1:${segmentsPort}`,
      EXPORTER_FILE_ROOT: files,
    });
    exporter = await scope.start(exporterService, exporterEnv);
    const annToken = await scope.token({ subject: 'ann', groups: ['marketing'] });
    segments = createGrpcClient(SegmentService, {
      address: `127.0.0.1:${segmentsPort}`,
      token: () => annToken,
      deadlineMs: 10_000,
    });
    exports = scope.client(ExportService, exporter, annToken);
    const make = async (name: string, visibility: Visibility) => {
      const { segment } = await segments.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: { name, rule: RULE, visibility },
      });
      return segment?.id ?? '';
    };
    shared = await make('VIPs', Visibility.SHARED);
    secondShared = await make('Other VIPs', Visibility.SHARED);
    privateId = await make('My VIPs', Visibility.PRIVATE);
    // the exporter knows a segment once its definition has come through the topic
    const known = await waitUntil(
      async () => {
        for (const id of [shared, secondShared, privateId]) {
          const answer = await collect(exports.exportCsv({ segmentId: id })).catch(() => false);
          if (answer === false) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(known).toBe(true);
  });

  afterAll(async () => {
    segments?.close();
    await scope.close();
    if (segmentsProcess && !segmentsProcess.hasExited()) await segmentsProcess.kill('SIGTERM');
    await receiver.stop();
    await stubs.stop();
    rmSync(logs, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
  });

  async function collect(stream: AsyncIterable<unknown>) {
    for await (const chunk of stream) void chunk;
    return true;
  }

  async function webhook(
    name: string,
    path: string,
    answers: Answer[] = [{ status: 200 }],
    maxAttempts = 0,
  ) {
    const { destination } = await exports.createDestination({
      name,
      config: {
        kind: {
          case: 'webhook',
          value: { url: receiver.script(path, answers), signingSecret: SECRET, maxAttempts },
        },
      },
    });
    return destination?.id ?? '';
  }

  let sequence = 0;
  /** Transitions as the membership service publishes them, on the real topic. */
  async function transitions(segmentId: string, profiles: string[], kind = TransitionKind.ENTERED) {
    await scope.produce(
      membershipChangesTopic,
      profiles.map((profileId) => {
        sequence++;
        return transitionRecord({
          id: `tr-${segmentId}-${profileId}-${sequence}`,
          kind,
          segmentId,
          profileId,
          sequence,
        });
      }),
    );
  }

  const bodyOf = (body: string) =>
    JSON.parse(body) as {
      batchId: string;
      segmentId: string;
      records: { eventId: string; type: string; profileId: string }[];
    };

  it("refuses to link a private segment, and treats another user's as not found", async () => {
    const id = await webhook('private link', '/private');
    const privateLink = await exports
      .linkSegment({ destinationId: id, segmentId: privateId, autoSync: true })
      .catch((e: unknown) => e as GrpcCallError);
    expect(privateLink).toBeInstanceOf(GrpcCallError);
    expect((privateLink as GrpcCallError).reason).toBe('SEGMENT_NOT_SHARED');

    const eve = scope.client(ExportService, exporter, await scope.token({ subject: 'eve' }));
    const foreign = await eve
      .getDestination({ destinationId: id })
      .catch((e: unknown) => e as GrpcCallError);
    expect((foreign as GrpcCallError).reason).toBe('DESTINATION_NOT_FOUND');
  });

  it('refuses a webhook on a loopback or private address unless the allow-list covers it', async () => {
    const refusedAt = async (client: GrpcClient<typeof ExportService>, url: string) => {
      const refusal = await client
        .createDestination({
          name: 'inside',
          config: { kind: { case: 'webhook', value: { url, signingSecret: SECRET } } },
        })
        .catch((e: unknown) => e as GrpcCallError);
      expect(refusal).toBeInstanceOf(GrpcCallError);
      return (refusal as GrpcCallError).violations.map((v) => v.field);
    };
    // allowed: 127.0.0.1/32 only
    for (const url of [
      'http://127.0.0.2:9/',
      'http://[::1]:9/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
    ])
      expect(await refusedAt(exports, url)).toEqual(['config.webhook.url']);

    // an exporter without the allow-list (on topics of its own) refuses the receiver itself
    const strict = await scope.start(exporterService, {
      ...exporterEnv,
      EXPORTER_WEBHOOK_ALLOWED_CIDRS: undefined,
      KAFKA_TOPIC_PREFIX: `${scope.env('exporter').KAFKA_TOPIC_PREFIX ?? ''}strict.`,
    });
    try {
      const client = scope.client(ExportService, strict, await scope.token({ subject: 'ann' }));
      expect(await refusedAt(client, receiver.script('/loopback', [{ status: 200 }]))).toEqual([
        'config.webhook.url',
      ]);
      expect(await refusedAt(client, 'http://localhost:9/')).toEqual(['config.webhook.url']);
    } finally {
      await strict.close();
    }
    expect(receiver.at('/loopback')).toEqual([]);
  });

  it('locks the segment against edits while auto-sync is on, and unlocks it when off', async () => {
    const id = await webhook('lock', '/lock');
    await exports.linkSegment({
      destinationId: id,
      segmentId: secondShared,
      mode: SyncMode.INCREMENTAL,
      autoSync: true,
    });
    const { segment } = await segments.getSegment({ id: secondShared });
    expect(segment?.lock).toMatchObject({ locked: true, destinationIds: [id] });
    const edit = await segments
      .updateSegment({
        id: secondShared,
        expectedVersion: segment?.version ?? 0n,
        segment: { description: 'changed' },
        updateMask: { paths: ['description'] },
      })
      .catch((e: unknown) => e as GrpcCallError);
    expect((edit as GrpcCallError).reason).toBe('SEGMENT_LOCKED');

    const { destination } = await exports.setAutoSync({
      destinationId: id,
      segmentId: secondShared,
      autoSync: false,
    });
    expect(destination?.links).toMatchObject([{ segmentId: secondShared, autoSync: false }]);
    const { segment: unlocked } = await segments.getSegment({ id: secondShared });
    expect(unlocked?.lock?.locked ?? false).toBe(false);
    await segments.updateSegment({
      id: secondShared,
      expectedVersion: unlocked?.version ?? 0n,
      segment: { description: 'changed' },
      updateMask: { paths: ['description'] },
    });
  });

  it('delivers signed batches in order and never returns or logs the secret', async () => {
    const id = await webhook('signed', '/signed');
    await exports.linkSegment({ destinationId: id, segmentId: shared, autoSync: true });
    await transitions(shared, ['p-a', 'p-b', 'p-c']);
    await transitions(shared, ['p-a'], TransitionKind.EXITED);
    const arrived = await waitUntil(
      () => receiver.at('/signed').flatMap((r) => bodyOf(r.body).records).length >= 4,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(arrived).toBe(true);
    for (const request of receiver.at('/signed')) {
      const [t, v1] = String(request.headers['x-shoal-signature'])
        .split(',')
        .map((part) => part.split('=')[1]);
      expect(v1).toBe(webhookSignature(SECRET, Number(t), request.body));
    }
    const records = receiver.at('/signed').flatMap((r) => bodyOf(r.body).records);
    const ofA = records.filter((r) => r.profileId === 'p-a').map((r) => r.type);
    expect(ofA).toEqual(['entered', 'exited']);
    expect(new Set(records.map((r) => r.eventId)).size).toBe(4);

    const { destination } = await exports.getDestination({ destinationId: id });
    expect(destination?.config?.kind).toMatchObject({
      case: 'webhook',
      value: { signingSecret: '', signingSecretSet: true },
    });
    expect(scope.logs.text).not.toContain(SECRET);
  });

  it("keeps a paused link's transitions and sends them when auto-sync is switched on again", async () => {
    const id = await webhook('paused', '/paused');
    await exports.linkSegment({ destinationId: id, segmentId: shared, autoSync: true });
    await transitions(shared, ['p-before']);
    expect(
      await waitUntil(() => receiver.at('/paused').length > 0, {
        timeoutMs: 30_000,
        intervalMs: 100,
      }),
    ).toBe(true);
    await exports.setAutoSync({ destinationId: id, segmentId: shared, autoSync: false });
    await transitions(shared, ['p-off-1', 'p-off-2']);
    await transitions(shared, ['p-off-1'], TransitionKind.EXITED);
    const backlog = await waitUntil(
      async () => {
        const { destination } = await exports.getDestination({ destinationId: id });
        return destination?.links[0]?.syncState?.pausedBacklog === 3n;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(backlog).toBe(true);
    const profilesAt = () =>
      receiver.at('/paused').flatMap((r) => bodyOf(r.body).records.map((x) => x.profileId));
    expect(profilesAt()).toEqual(['p-before']);

    await exports.setAutoSync({ destinationId: id, segmentId: shared, autoSync: true });
    expect(
      await waitUntil(() => profilesAt().length >= 4, { timeoutMs: 30_000, intervalMs: 100 }),
    ).toBe(true);
    const records = receiver.at('/paused').flatMap((r) => bodyOf(r.body).records);
    expect(records.filter((r) => r.profileId === 'p-off-1').map((r) => r.type)).toEqual([
      'entered',
      'exited',
    ]);
    expect(new Set(records.map((r) => r.eventId)).size).toBe(4);
    const { destination } = await exports.getDestination({ destinationId: id });
    expect(destination?.links[0]?.syncState).toMatchObject({
      pausedBacklog: 0n,
      recordsSynced: 4n,
      lastSyncedEventId: records.at(-1)?.eventId,
    });
    expect(destination?.links[0]?.syncState?.lastSyncedAt).toBeDefined();
  });

  it("sends each record with the profile's identities and the link's traits, read from ingestion", async () => {
    const id = await webhook('enriched', '/enriched');
    await exports.linkSegment({
      destinationId: id,
      segmentId: shared,
      autoSync: true,
      traits: ['name', 'plan', 'absent'],
    });
    await transitions(shared, [memberId(7), 'p-gone']);
    expect(
      await waitUntil(
        () => receiver.at('/enriched').flatMap((r) => bodyOf(r.body).records).length >= 2,
        { timeoutMs: 30_000, intervalMs: 100 },
      ),
    ).toBe(true);
    const records = receiver
      .at('/enriched')
      .flatMap((r) => (JSON.parse(r.body) as { records: Record<string, unknown>[] }).records);
    expect(records).toHaveLength(2);
    // the two profiles' transitions may be on different partitions: no order between them
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          profileId: memberId(7),
          identities: { userIds: ['user-7'], emails: ['m7@example.com'] },
          traits: { name: 'Member 7, "the" 🐟\nsecond line', plan: 'gold' },
        }),
        expect.objectContaining({
          profileId: 'p-gone',
          identities: { userIds: [], emails: [] },
          traits: {},
        }),
      ]),
    );
  });

  it('retries a 500 and delivers on the following 200, recording the failure in the run', async () => {
    const id = await webhook('flaky', '/flaky', [{ status: 500 }, { status: 200 }]);
    await exports.linkSegment({ destinationId: id, segmentId: shared, autoSync: true });
    await transitions(shared, ['p-flaky']);
    const done = await waitUntil(
      async () => {
        const { runs } = await exports.listSyncRuns({ destinationId: id });
        return runs.some((r) => r.status === SyncRunStatus.SUCCEEDED);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(done).toBe(true);
    const { runs } = await exports.listSyncRuns({ destinationId: id });
    expect(runs[0]).toMatchObject({
      kind: SyncRunKind.INCREMENTAL,
      segmentId: shared,
      status: SyncRunStatus.SUCCEEDED,
      records: 1n,
      failures: 1n,
      error: 'HTTP 500',
    });
    const attempts = receiver.at('/flaky');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.headers['x-shoal-batch-id']).toBe(attempts[1]?.headers['x-shoal-batch-id']);
  });

  it("waits out a 429's Retry-After before trying again", async () => {
    const id = await webhook('busy', '/busy', [
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 200 },
    ]);
    await exports.linkSegment({ destinationId: id, segmentId: shared, autoSync: true });
    await transitions(shared, ['p-busy']);
    const twice = await waitUntil(() => receiver.at('/busy').length >= 2, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(twice).toBe(true);
    const [first, second] = receiver.at('/busy');
    // the retry base is 20 ms: only the receiver's Retry-After makes it wait this long
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2_000);
  });

  it('dead-letters what an always-failing receiver refuses, without holding up another destination', async () => {
    const down = await webhook('down', '/down', [{ status: 500 }], 3);
    const up = await webhook('up', '/up');
    await exports.linkSegment({ destinationId: down, segmentId: shared, autoSync: true });
    await exports.linkSegment({ destinationId: up, segmentId: shared, autoSync: true });
    await transitions(shared, ['p-x', 'p-y']);
    const delivered = await waitUntil(
      () => receiver.at('/up').flatMap((r) => bodyOf(r.body).records).length >= 2,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(delivered).toBe(true);
    // the two records go out in one batch, or in two when the second is queued after the
    // first batch's wait (a busy machine): either way each batch is tried 3 times, then kept
    const deadLetteredRecords = async () =>
      (await exports.listDeadLetters({ destinationId: down })).deadLetters.reduce(
        (sum, letter) => sum + Number(letter.records),
        0,
      );
    const deadLettered = await waitUntil(async () => (await deadLetteredRecords()) >= 2, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(deadLettered).toBe(true);
    const { deadLetters } = await exports.listDeadLetters({ destinationId: down });
    for (const letter of deadLetters) {
      expect(letter).toMatchObject({ attempts: 3, error: 'HTTP 500' });
    }
    expect(await deadLetteredRecords()).toBe(2);
    expect(receiver.at('/down')).toHaveLength(3 * deadLetters.length);
    const { runs } = await exports.listSyncRuns({ destinationId: down });
    expect(runs[0]?.status).toBe(SyncRunStatus.FAILED);
  });

  it('produces entered and exited records to a Kafka topic, keyed by profile, with CloudEvents headers', async () => {
    const topic: TopicSpec = {
      ...exporterDeadLetterTopic,
      name: 'destination.vips',
      partitions: 2,
    };
    const admin = scope.kafka().admin();
    await admin.connect();
    await admin
      .createTopics({
        topics: [{ topic: scope.topicName(topic), numPartitions: 2 }],
        waitForLeaders: true,
      })
      .finally(() => admin.disconnect());
    const { destination } = await exports.createDestination({
      name: 'stream',
      config: {
        kind: {
          case: 'kafkaTopic',
          value: {
            brokers: (scope.env('exporter').KAFKA_BROKERS ?? '').split(','),
            topic: scope.topicName(topic),
          },
        },
      },
    });
    const id = destination?.id ?? '';
    await exports.linkSegment({ destinationId: id, segmentId: shared, autoSync: true });
    await transitions(shared, ['p-k1', 'p-k2']);
    await transitions(shared, ['p-k1'], TransitionKind.EXITED);
    const records = await scope.readTopic(topic, 3);
    const ofK1 = records
      .filter((r) => r.key?.toString() === 'p-k1')
      .map((r) => r.headers?.ce_type?.toString());
    expect(ofK1).toEqual(['shoal.segment.entered', 'shoal.segment.exited']);
    const value = JSON.parse(records[0]?.value?.toString() ?? '{}') as Record<string, unknown>;
    expect(value).toMatchObject({ segmentId: shared });
    expect(records[0]?.headers?.ce_id?.toString()).toBe(value.eventId);
  });

  it('writes a full sync as one whole file, renamed into place', async () => {
    const outside = await exports
      .createDestination({
        name: 'elsewhere',
        config: { kind: { case: 'file', value: { directory: '/etc/shoal' } } },
      })
      .catch((e: unknown) => e as GrpcCallError);
    expect((outside as GrpcCallError).violations.map((v) => v.field)).toEqual([
      'config.file.directory',
    ]);

    const directory = join(files, 'vips');
    const { destination } = await exports.createDestination({
      name: 'drop',
      config: { kind: { case: 'file', value: { directory } } },
    });
    const id = destination?.id ?? '';
    const { destination: linked } = await exports.linkSegment({
      destinationId: id,
      segmentId: shared,
      autoSync: true,
      traits: ['plan'],
    });
    expect(linked?.links).toMatchObject([{ mode: SyncMode.FULL, traits: ['plan'] }]);
    const { run } = await exports.syncNow({ destinationId: id, segmentId: shared });
    expect(run?.kind).toBe(SyncRunKind.FULL);
    const finished = await waitUntil(
      async () =>
        (await exports.listSyncRuns({ destinationId: id })).runs.some(
          (r) => r.status === SyncRunStatus.SUCCEEDED,
        ),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(finished).toBe(true);
    const written = readdirSync(directory);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(new RegExp(`^${shared}-.+\\.csv$`));
    const rows = parse(readFileSync(join(directory, written[0] ?? ''), 'utf8'), {
      relax_quotes: false,
      relax_column_count: false,
    }) as string[][];
    expect(rows[0]).toEqual([
      'event_id',
      'type',
      'segment_id',
      'profile_id',
      'occurred_at',
      'user_ids',
      'emails',
      'traits',
    ]);
    expect(rows.slice(1).map((r) => [r[1], r[2], r[3], r[5], r[6], r[7]])).toEqual(
      [1, 2, 3, 4, 5].map((i) => [
        'member',
        shared,
        memberId(i),
        `user-${i}`,
        `m${i}@example.com`,
        JSON.stringify({ plan: i % 2 === 0 ? '=cmd|/c calc' : 'gold' }),
      ]),
    );
    const { runs } = await exports.listSyncRuns({ destinationId: id });
    expect(runs[0]).toMatchObject({ records: BigInt(FULL_MEMBERS), failures: 0n });
  });

  it('syncs a full link again when a refresh of its segment has succeeded in every partition', async () => {
    const directory = join(files, 'refreshed');
    const { destination } = await exports.createDestination({
      name: 'after refresh',
      config: { kind: { case: 'file', value: { directory, format: FileFormat.NDJSON } } },
    });
    await exports.linkSegment({
      destinationId: destination?.id ?? '',
      segmentId: shared,
      mode: SyncMode.FULL,
      autoSync: true,
    });
    const progress = (partition: number) =>
      create(RefreshProgressSchema, {
        jobId: 'job-refresh-1',
        segmentId: shared,
        partition,
        partitionCount: 2,
        state: RefreshState.SUCCEEDED,
      });
    // membership reports each partition on the job-progress topic; the second completes the job
    await scope.produce(jobProgressTopic, [
      { key: 'job-refresh-1', value: Buffer.from(toBinary(RefreshProgressSchema, progress(0))) },
    ]);
    await scope.produce(jobProgressTopic, [
      { key: 'job-refresh-1', value: Buffer.from(toBinary(RefreshProgressSchema, progress(1))) },
      { key: 'job-refresh-1', value: Buffer.from(toBinary(RefreshProgressSchema, progress(1))) },
    ]);
    const written = await waitUntil(
      () => existsSync(directory) && readdirSync(directory).some((f) => f.endsWith('.ndjson')),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(written).toBe(true);
    const file = readdirSync(directory).find((f) => f.endsWith('.ndjson')) ?? '';
    const lines = readFileSync(join(directory, file), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { profileId: string }).profileId)).toEqual(
      [1, 2, 3, 4, 5].map(memberId),
    );
    const { runs } = await exports.listSyncRuns({ destinationId: destination?.id ?? '' });
    expect(runs).toHaveLength(1);
  });

  it('keeps what it queued and what it had not yet read across a restart', async () => {
    // the receiver asks for a long pause: the batch stays queued while the exporter waits
    const id = await webhook('restart', '/restart', [
      { status: 429, headers: { 'retry-after': '600' } },
    ]);
    await exports.linkSegment({ destinationId: id, segmentId: shared, autoSync: true });
    await transitions(shared, ['p-queued']);
    expect(
      await waitUntil(() => receiver.at('/restart').length > 0, {
        timeoutMs: 30_000,
        intervalMs: 100,
      }),
    ).toBe(true);
    await exporter.close();
    // while the exporter is down: more transitions, and the receiver recovers
    await transitions(shared, ['p-unread']);
    receiver.script('/restart', [{ status: 200 }]);
    exporter = await scope.start(exporterService, exporterEnv);
    exports = scope.client(ExportService, exporter, await scope.token({ subject: 'ann' }));
    const delivered = () =>
      receiver
        .at('/restart')
        .flatMap((r) => (r.body ? bodyOf(r.body).records : []))
        .map((r) => r.profileId);
    expect(
      await waitUntil(() => ['p-queued', 'p-unread'].every((p) => delivered().includes(p)), {
        timeoutMs: 60_000,
        intervalMs: 200,
      }),
    ).toBe(true);
  });
});
