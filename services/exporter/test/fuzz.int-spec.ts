import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  CsvColumnKind,
  type DestinationConfigSchema,
  ExportService,
  FileFormat,
  SyncMode,
} from '@shoal/contracts';
import { type RunningService, waitUntil } from '@shoal/platform';
import {
  type FuzzCaller,
  type FuzzTarget,
  TestScope,
  fuzzCallers,
  fuzzHttp,
  fuzzUserToken,
  itAnswersArbitraryRequests,
} from '@shoal/testing';
import fc from 'fast-check';
import { CsvDownloadServer } from '../src/csv/csv-download.server';
import { exporterService } from '../src/service';
import { publishSegment } from './definitions';
import { PeerStubs, awkwardProfile } from './peer-stubs';

jest.setTimeout(120_000);

/** Members of each dynamic segment as the membership stand-in lists them. */
const MEMBERS = 3;
/**
 * Segments of every kind the exporter meets: ann's shared one (linked to her destinations), a
 * second shared one, her private one (never linked), bob's shared one, a static list and one
 * that was never defined.
 */
const SEGMENTS = {
  shared: 'seg_fz_shared',
  other: 'seg_fz_other',
  private: 'seg_fz_private',
  bobs: 'seg_fz_bobs',
  list: 'seg_fz_list',
  unknown: 'seg_fz_unknown',
} as const;
const TRAITS = ['plan', 'email', 'address.city', 'name'];
const CRONS = ['', '0 */4 * * *', '*/5 * * * *', '0 0 29 2 *'];
const TIME_ZONES = ['', 'UTC', 'Europe/Berlin'];

/** Answers only a use case gives: a success, or a refusal after reading what the request names. */
const USE_CASE_ANSWERS = [
  'OK',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'ABORTED',
] as const;

describe('ExportService, health and the CSV download under arbitrary requests', () => {
  const scope = new TestScope();
  const files = mkdtempSync(join(tmpdir(), 'exporter-fuzz-'));
  const stubs = new PeerStubs(
    (segmentId) => (segmentId === SEGMENTS.list ? 2 : MEMBERS),
    (index) => (Number.isInteger(index) ? awkwardProfile(index) : undefined),
    (segmentId) => segmentId === SEGMENTS.list,
  );
  let exporter: RunningService;
  let callers: FuzzCaller[];
  let target: FuzzTarget;

  beforeAll(async () => {
    const peers = await stubs.start();
    exporter = await scope.start(exporterService, {
      EXPORTER_MEMBERSHIP_ADDRESS: peers,
      EXPORTER_INGESTION_ADDRESS: peers,
      EXPORTER_SEGMENTS_ADDRESS: peers,
      EXPORTER_DOWNLOAD_PORT: '0',
      EXPORTER_SYNC_INTERVAL_MS: '200',
      EXPORTER_FILE_ROOT: files,
    });
    await publishSegment(scope, { id: SEGMENTS.shared, owner: 'ann', shared: true });
    await publishSegment(scope, { id: SEGMENTS.other, owner: 'ann', shared: true });
    await publishSegment(scope, { id: SEGMENTS.private, owner: 'ann', shared: false });
    await publishSegment(scope, { id: SEGMENTS.bobs, owner: 'bob', shared: true });
    await publishSegment(scope, { id: SEGMENTS.list, owner: 'ann', shared: true, list: true });
    callers = await fuzzCallers(scope, [
      // the owner of the destinations calls most, so that more requests get as far as a change
      { subject: 'ann', groups: ['marketing'], weight: 8 },
      { subject: 'bob', groups: ['marketing'] },
    ]);
    const ann = scope.client(ExportService, exporter, fuzzUserToken(callers, 'ann'));
    // the exporter knows the segments once their definitions came through the topic
    const known = await waitUntil(
      async () =>
        drain(ann.exportCsv({ segmentId: SEGMENTS.private })).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(known).toBe(true);
    // one destination of each kind, the webhook and the file linked to the shared segment
    const destinationIds: string[] = [];
    for (const config of fixtureConfigs(files)) {
      const { destination } = await ann.createDestination({ name: 'fuzz', config });
      destinationIds.push(destination?.id ?? '');
    }
    const [webhookId, fileId] = destinationIds as [string, string];
    await ann.linkSegment({
      destinationId: webhookId,
      segmentId: SEGMENTS.shared,
      mode: SyncMode.INCREMENTAL,
      autoSync: true,
    });
    await ann.linkSegment({
      destinationId: fileId,
      segmentId: SEGMENTS.shared,
      mode: SyncMode.FULL,
    });
    const ids = Object.values(SEGMENTS);
    target = {
      service: ExportService,
      address: `127.0.0.1:${exporter.grpcPort}`,
      callers,
      strings: [...ids, ...destinationIds, ...TRAITS, ...CRONS.filter(Boolean)],
      known: {
        fields: {
          segment_id: fc.constantFrom(...ids),
          destination_id: fc.constantFrom(...destinationIds),
          expected_version: fc.bigInt({ min: 1n, max: 4n }),
          name: fc.oneof(fc.constant('fuzz'), fc.string({ minLength: 1, maxLength: 30 })),
          traits: fc.subarray(TRAITS),
          schedule: fc.constantFrom(...CRONS),
          time_zone: fc.constantFrom(...TIME_ZONES),
          mode: fc.constantFrom(SyncMode.FULL, SyncMode.INCREMENTAL),
          limit: fc.integer({ min: 0, max: 5 }),
          'shoal.v1.CsvColumn.trait': fc.constantFrom(...TRAITS),
          'shoal.v1.CsvColumn.kind': fc.constantFrom(
            CsvColumnKind.PROFILE_ID,
            CsvColumnKind.USER_ID,
            CsvColumnKind.IDENTITY_TRAIT,
            CsvColumnKind.TRAIT,
          ),
        },
        messages: { 'shoal.v1.DestinationConfig': configs(files) },
      },
    };
  });
  afterAll(async () => {
    await scope.close();
    await stubs.stop();
    rmSync(files, { recursive: true, force: true });
  });

  itAnswersArbitraryRequests(ExportService, () => target, USE_CASE_ANSWERS);

  it('the CSV download answers every request with a status, never a 5xx but 503, and in time', async () => {
    const segment = fc.oneof(
      fc.constantFrom(...Object.values(SEGMENTS)),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const columns = fc.oneof(
      fc.constant(''),
      fc
        .subarray(['profile_id', 'user_id', 'anonymous_id', 'identity:email', 'trait:plan', 'x'], {
          minLength: 1,
        })
        .map((names) => `?columns=${names.join(',')}`),
    );
    const outcomes = await fuzzHttp({
      port: exporter.app.get(CsvDownloadServer).port,
      callers,
      targets: fc
        .tuple(segment, columns)
        .map(([id, query]) => `/segments/${id}/members.csv${query}`),
    });
    expect({ outcomes, served: (outcomes['200'] ?? 0) > 0 }).toMatchObject({ served: true });
  });
});

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of stream) void chunk;
}

/** A webhook, a file and a Kafka topic destination. */
function fixtureConfigs(root: string): MessageInitShape<typeof DestinationConfigSchema>[] {
  return [
    {
      kind: {
        case: 'webhook',
        value: { url: 'https://93.184.215.14/in', signingSecret: 'whsec-0123456789abcdef' },
      },
    },
    { kind: { case: 'file', value: { directory: root, format: FileFormat.CSV } } },
    { kind: { case: 'kafkaTopic', value: { brokers: ['127.0.0.1:1'], topic: 'shoal-fuzz-out' } } },
  ];
}

/** Destination configs the exporter accepts: webhooks to public hosts, files, Kafka topics. */
function configs(root: string): fc.Arbitrary<MessageInitShape<typeof DestinationConfigSchema>> {
  return fc.oneof(
    fc.record({
      kind: fc.record({
        case: fc.constant('webhook' as const),
        value: fc.record({
          // public addresses, so no name has to resolve (nothing here reaches them: deliveries fail)
          url: fc.constantFrom('https://93.184.215.14/in', 'http://8.8.4.4:8080/hook?x=1'),
          signingSecret: fc.constantFrom('whsec-0123456789abcdef', ''),
          timeoutMs: fc.integer({ min: 0, max: 30_000 }),
          batchSize: fc.integer({ min: 0, max: 500 }),
          maxAttempts: fc.integer({ min: 0, max: 5 }),
        }),
      }),
    }),
    fc.record({
      kind: fc.record({
        case: fc.constant('file' as const),
        value: fc.record({
          directory: fc.constantFrom(root, join(root, 'sub')),
          format: fc.constantFrom(FileFormat.CSV, FileFormat.NDJSON),
        }),
      }),
    }),
    fc.record({
      kind: fc.record({
        case: fc.constant('kafkaTopic' as const),
        value: fc.record({
          brokers: fc.constant<string[]>(['127.0.0.1:1']),
          topic: fc.constantFrom('shoal-fuzz-out', 'a.b_c-d'),
          batchSize: fc.integer({ min: 0, max: 500 }),
          maxAttempts: fc.integer({ min: 0, max: 5 }),
        }),
      }),
    }),
  );
}
