import { request } from 'node:http';
import { ExportService } from '@shoal/contracts';
import { type RunningService, GrpcCallError, waitUntil } from '@shoal/platform';
import { TestScope } from '@shoal/testing';
import { parse } from 'csv-parse/sync';
import { CsvDownloadServer } from '../src/csv/csv-download.server';
import { exporterService } from '../src/service';
import { publishSegment } from './definitions';
import { PeerStubs, awkwardProfile, memberId } from './peer-stubs';

jest.setTimeout(120_000);

const MEMBERS = 250;
const LIST_MEMBERS = 3;
/** Member 7's profile was erased: it is left out of the file. */
const ERASED = 7;

describe('CSV export', () => {
  const scope = new TestScope();
  const stubs = new PeerStubs(
    (segmentId) =>
      segmentId === 'seg_shared' || segmentId === 'seg_private'
        ? MEMBERS
        : segmentId === 'seg_list'
          ? LIST_MEMBERS
          : 0,
    (index) => (index === ERASED ? undefined : awkwardProfile(index)),
    (segmentId) => segmentId === 'seg_list',
  );
  let exporter: RunningService;
  let downloadPort: number;

  beforeAll(async () => {
    const peers = await stubs.start();
    exporter = await scope.start(exporterService, {
      EXPORTER_MEMBERSHIP_ADDRESS: peers,
      EXPORTER_INGESTION_ADDRESS: peers,
      EXPORTER_SEGMENTS_ADDRESS: peers,
      EXPORTER_DOWNLOAD_PORT: '0',
      EXPORTER_CSV_PAGE_SIZE: '100',
    });
    downloadPort = exporter.app.get(CsvDownloadServer).port;
    await publishSegment(scope, { id: 'seg_shared', owner: 'ann', shared: true });
    await publishSegment(scope, { id: 'seg_private', owner: 'ann', shared: false });
    await publishSegment(scope, { id: 'seg_list', owner: 'ann', shared: true, list: true });
    const client = scope.client(ExportService, exporter, await scope.token({ subject: 'ann' }));
    const known = await waitUntil(
      async () =>
        (await collect(client.exportCsv({ segmentId: 'seg_private' })).then(
          () => true,
          () => false,
        )) === true,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(known).toBe(true);
  });

  afterAll(async () => {
    await scope.close();
    await stubs.stop();
  });

  async function collect(stream: AsyncIterable<{ data: Uint8Array; rows: bigint }>) {
    const parts: Buffer[] = [];
    let rows = 0n;
    for await (const chunk of stream) {
      parts.push(Buffer.from(chunk.data));
      rows += chunk.rows;
    }
    return { text: Buffer.concat(parts).toString('utf8'), rows };
  }

  it('streams every member with a profile as RFC 4180 rows a strict parser reads back', async () => {
    const client = scope.client(ExportService, exporter, await scope.token({ subject: 'bob' }));
    const { text, rows } = await collect(
      client.exportCsv({
        segmentId: 'seg_shared',
        columns: [
          { kind: 1 },
          { kind: 2 },
          { kind: 4, trait: 'email' },
          { kind: 5, trait: 'name', header: 'Name' },
          { kind: 5, trait: 'plan' },
        ],
      }),
    );
    const parsed = parse(text, { relax_quotes: false, relax_column_count: false }) as string[][];
    expect(parsed[0]).toEqual(['profile_id', 'user_id', 'email', 'Name', 'plan']);
    expect(parsed).toHaveLength(MEMBERS); // a header, and every member but the erased one
    expect(rows).toBe(BigInt(MEMBERS - 1));
    expect(parsed.map((r) => r[0])).not.toContain(memberId(ERASED));
    expect(parsed[1]).toEqual([
      memberId(1),
      'user-1',
      'm1@example.com',
      'Member 1, "the" 🐟\nsecond line',
      'gold',
    ]);
    expect(parsed[2]?.[4]).toBe("'=cmd|/c calc");
  });

  it("exports a static list's members from the segments service", async () => {
    const client = scope.client(ExportService, exporter, await scope.token({ subject: 'bob' }));
    const { text } = await collect(client.exportCsv({ segmentId: 'seg_list' }));
    expect(parse(text)).toEqual([
      ['profile_id', 'user_id'],
      [memberId(1), 'user-1'],
      [memberId(2), 'user-2'],
      [memberId(3), 'user-3'],
    ]);
  });

  it('exports a segment published a moment ago at once', async () => {
    const client = scope.client(ExportService, exporter, await scope.token({ subject: 'ann' }));
    for (let i = 0; i < 3; i++) {
      const segmentId = `seg_fresh_${i}`;
      await publishSegment(scope, { id: segmentId, owner: 'ann', shared: true });
      // asked right after the definition is on the topic, with no waiting in between
      const { text, rows } = await collect(client.exportCsv({ segmentId }));
      expect([text, rows]).toEqual(['profile_id,user_id\r\n', 0n]);
    }
  });

  it('answers NOT_FOUND for a segment the caller may not see, before any byte', async () => {
    const client = scope.client(ExportService, exporter, await scope.token({ subject: 'bob' }));
    const refusal = await collect(client.exportCsv({ segmentId: 'seg_private' })).catch(
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(GrpcCallError);
    expect((refusal as GrpcCallError).reason).toBe('SEGMENT_NOT_FOUND');
    const unknown = await collect(client.exportCsv({ segmentId: 'seg_nope' })).catch(
      (e: unknown) => e,
    );
    expect((unknown as GrpcCallError).reason).toBe('SEGMENT_NOT_FOUND');
  });

  it('refuses a trait column without a trait, naming the field', async () => {
    const client = scope.client(ExportService, exporter, await scope.token({ subject: 'ann' }));
    const refusal = (await collect(
      client.exportCsv({ segmentId: 'seg_shared', columns: [{ kind: 5 }] }),
    ).catch((e: unknown) => e)) as GrpcCallError;
    expect(refusal.violations.map((v) => v.field)).toEqual(['columns[0].trait']);
  });

  describe('HTTP download', () => {
    function download(path: string, token?: string) {
      return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: downloadPort,
            path,
            headers: token ? { authorization: `Bearer ${token}` } : {},
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (part: Buffer) => parts.push(part));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                type: String(res.headers['content-type']),
                body: Buffer.concat(parts).toString('utf8'),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    }

    it('serves the same file as ExportCsv for the same token and columns', async () => {
      const token = await scope.token({ subject: 'ann' });
      const client = scope.client(ExportService, exporter, token);
      const overGrpc = await collect(
        client.exportCsv({
          segmentId: 'seg_private',
          columns: [{ kind: 1 }, { kind: 4, trait: 'email' }, { kind: 5, trait: 'name' }],
        }),
      );
      const overHttp = await download(
        '/segments/seg_private/members.csv?columns=profile_id,identity:email,trait:name',
        token,
      );
      expect(overHttp.status).toBe(200);
      expect(overHttp.type).toMatch(/^text\/csv; charset=utf-8/);
      expect(overHttp.body).toBe(overGrpc.text);
    });

    it('answers 404 to a request target that is no path (//[ reads as a URL with a bad host)', async () => {
      const answer = await download('//[', await scope.token({ subject: 'ann' }));
      expect(answer.status).toBe(404);
    });

    it('refuses a request without a token with 401', async () => {
      const answer = await download('/segments/seg_shared/members.csv');
      expect(answer.status).toBe(401);
      expect(answer.body).toMatch(/^TOKEN_MISSING/);
    });

    it('answers 404 for a segment the caller may not see', async () => {
      const answer = await download(
        '/segments/seg_private/members.csv',
        await scope.token({ subject: 'bob' }),
      );
      expect(answer.status).toBe(404);
    });

    it('answers 400 naming a column it does not know', async () => {
      const answer = await download(
        '/segments/seg_shared/members.csv?columns=profile_id,shoe_size',
        await scope.token({ subject: 'ann' }),
      );
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('columns[1]');
    });
  });
});
