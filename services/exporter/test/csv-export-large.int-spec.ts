import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportService } from '@shoal/contracts';
import { createGrpcClient, waitUntil } from '@shoal/platform';
import { type LaunchedProcess, TestScope, freePort, startServiceProcess } from '@shoal/testing';
import { parse } from 'csv-parse';
import { publishSegment } from './definitions';
import { buildForProcesses } from './built-services';
import { PeerStubs, awkwardProfile, memberId } from './peer-stubs';

jest.setTimeout(900_000);

const MEMBERS = 100_000;
/** Per profile, so the file (~230 MB) is far larger than the memory the exporter may use. */
const PADDING = 'x'.repeat(2_000);
/** The exporter's V8 heap limit, in MiB. */
const HEAP_LIMIT_MIB = 96;
/** How much the exporter's peak RSS may exceed its RSS before the export. */
const MAX_GROWTH_BYTES = 64 * 1024 * 1024;

/** A process's resident set now (VmRSS) and at its peak so far (VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

describe('CSV export of a 100k-member segment', () => {
  const scope = new TestScope();
  const logs = mkdtempSync(join(tmpdir(), 'exporter-large-'));
  const stubs = new PeerStubs(
    () => MEMBERS,
    (index) => awkwardProfile(index, PADDING),
  );
  let exporter: LaunchedProcess;
  let grpcPort: number;

  beforeAll(async () => {
    // the exporter runs as its own process, so its memory is measured alone
    await buildForProcesses(['@shoal/contracts', '@shoal/platform', '@shoal/exporter']);
    const peers = await stubs.start();
    grpcPort = await freePort();
    const env = scope.env('exporter', {
      EXPORTER_MEMBERSHIP_ADDRESS: peers,
      EXPORTER_INGESTION_ADDRESS: peers,
      EXPORTER_DOWNLOAD_PORT: '0',
      // a heap far smaller than the file: the export can only finish if it holds no more
      // than a few pages at a time
      NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MIB}`,
    });
    exporter = await startServiceProcess({
      name: 'exporter',
      env,
      grpcPort,
      httpPort: await freePort(),
      logFile: join(logs, 'exporter.log'),
    });
    await publishSegment(scope, { id: 'seg_big', owner: 'ann', shared: true });
  });

  afterAll(async () => {
    if (exporter && !exporter.hasExited()) await exporter.kill('SIGTERM');
    await scope.close();
    await stubs.stop();
    rmSync(logs, { recursive: true, force: true });
  });

  it('streams with bounded memory and parses back strictly, awkward traits intact', async () => {
    const token = await scope.token({ subject: 'ann' });
    const client = createGrpcClient(ExportService, {
      address: `127.0.0.1:${grpcPort}`,
      token: () => token,
    });
    const request = {
      segmentId: 'seg_big',
      columns: [
        { kind: 1 },
        { kind: 2 },
        { kind: 5, trait: 'name' },
        { kind: 5, trait: 'plan' },
        { kind: 5, trait: 'note' },
      ],
    };
    // the definition reaches the exporter through the topic
    const visible = await waitUntil(
      async () => {
        try {
          for await (const chunk of client.exportCsv({ ...request, columns: [] })) {
            void chunk;
            return true;
          }
        } catch {
          return false;
        }
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(visible).toBe(true);

    const before = memoryOf(exporter.pid);
    let peak = before.rss;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(exporter.pid).rss)), 200);
    const parser = parse({ relax_quotes: false, relax_column_count: false });
    let rows = 0;
    let bytes = 0;
    const problems: string[] = [];
    parser.on('readable', () => {
      let row: string[] | null;
      while ((row = parser.read() as string[] | null) !== null) {
        if (rows > 0) {
          const index = rows;
          const expected = [
            memberId(index),
            `user-${index}`,
            `Member ${index}, "the" 🐟\nsecond line`,
            index % 2 === 0 ? "'=cmd|/c calc" : 'gold',
            PADDING,
          ];
          if (JSON.stringify(row) !== JSON.stringify(expected) && problems.length < 5)
            problems.push(`row ${index}: ${JSON.stringify(row)}`);
        }
        rows++;
      }
    });
    const ended = new Promise<void>((resolve, reject) => {
      parser.on('end', resolve);
      parser.on('error', reject);
    });
    try {
      for await (const chunk of client.exportCsv(request, { deadlineMs: 0 })) {
        bytes += chunk.data.length;
        if (!parser.write(Buffer.from(chunk.data)))
          await new Promise((resolve) => parser.once('drain', resolve));
      }
      parser.end();
      await ended;
    } finally {
      clearInterval(sampler);
      client.close();
    }
    const after = memoryOf(exporter.pid);
    peak = Math.max(peak, after.peak);
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    process.stdout.write(
      `exporter RSS before ${mib(before.rss)}, peak ${mib(peak)} (VmHWM ${mib(after.peak)}), ` +
        `after ${mib(after.rss)}; CSV ${mib(bytes)}, ${rows - 1} rows, ${stubs.profileReads} profile reads\n`,
    );
    expect(problems).toEqual([]);
    expect(rows).toBe(MEMBERS + 1);
    expect(bytes).toBeGreaterThan(3 * MAX_GROWTH_BYTES);
    expect(peak - before.rss).toBeLessThan(MAX_GROWTH_BYTES);
  });
});
