import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LaunchedProcess,
  type ShoalServiceName,
  TestScope,
  eventually,
  freePort,
  startServiceProcess,
  testInfrastructure,
} from '@shoal/testing';
import { EXIT, parseCommandLine } from '../src/command-line';
import { runServiceCommand } from '../src/api/run-api-command';
import { runDemo } from '../src/demo';

/**
 * `./shoal` service commands against ingestion, segments and membership started as the
 * processes `./shoal up` runs, on real Kafka and the real store, with a user token.
 */
describe('the service commands against running services', () => {
  const scope = new TestScope();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-cli-'));
  const processes: LaunchedProcess[] = [];
  const addresses = new Map<ShoalServiceName, string>();
  let token = '';

  const start = async (name: ShoalServiceName, overrides: Record<string, string> = {}) => {
    const grpcPort = await freePort();
    const env = scope.env(name, { LOG_LEVEL: 'info', ...overrides });
    processes.push(
      await startServiceProcess({
        name,
        env,
        grpcPort,
        httpPort: await freePort(),
        logFile: join(dir, `${name}.log`),
      }),
    );
    addresses.set(name, `127.0.0.1:${grpcPort}`);
  };

  /** Runs `./shoal <argv>` as main.ts does; answers the exit code and what was printed. */
  async function shoal(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const parsed = parseCommandLine(argv, {
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
    });
    if (!('command' in parsed)) return { code: parsed.exitCode, stdout, stderr };
    if (parsed.command.name !== 'api') throw new Error(`not a service command: ${argv.join(' ')}`);
    const code = await runServiceCommand(parsed.command.api, parsed.command.json, {
      connection: {
        address: (service) => addresses.get(service) ?? '127.0.0.1:1',
        token: async () => token,
        kafkaBrokers: testInfrastructure().kafkaBrokers,
        topicPrefix: scope.topicPrefix,
      },
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      progress: { update: () => {}, done: (line) => (stderr += `${line}\n`) },
      kafkaBrokers: testInfrastructure().kafkaBrokers,
      topicPrefix: scope.topicPrefix,
      signal: new AbortController().signal,
    });
    return { code, stdout, stderr };
  }

  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    await start('ingestion', {
      PROFILE_WRITER_GROUPS: 'writers',
      PROFILE_READER_GROUPS: 'readers',
      INGEST_CHECKPOINT_INTERVAL_MS: '200',
    });
    await start('segments');
    await start('membership', { MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '200' });
    token = await scope.token({
      subject: 'ann',
      groups: ['writers', 'readers'],
      ttlSeconds: 3_600,
    });
  }, 300_000);

  afterAll(async () => {
    for (const launched of processes) await launched.kill('SIGKILL');
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests an NDJSON file, defines a segment from a rule file and counts who entered it', async () => {
    const events = file(
      'events.ndjson',
      [
        { type: 'identify', messageId: 'i-1', userId: 'ann', traits: { plan: 'pro' } },
        // no messageId: the CLI gives it one from its line
        { type: 'identify', userId: 'bob', traits: { plan: 'free' } },
        {
          type: 'track',
          messageId: 't-1',
          userId: 'ann',
          event: 'Order Completed',
          properties: { total: 420 },
        },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const ingested = await shoal('ingest', '-f', events, '--json');
    expect(ingested).toMatchObject({ code: EXIT.ok });
    expect(JSON.parse(ingested.stdout)).toEqual({
      accepted: 3,
      rejected: [],
      messageIdsGiven: 1,
    });

    const rule = file(
      'pro.json',
      JSON.stringify({ condition: { trait: { path: 'plan', equals: 'pro' } } }),
    );
    const created = await shoal(
      'segments',
      'create',
      '-f',
      rule,
      '--name',
      'Pro',
      '--shared',
      '--json',
    );
    expect(created).toMatchObject({ code: EXIT.ok });
    const segmentId = (JSON.parse(created.stdout) as { segment: { id: string } }).segment.id;

    await eventually(async () => {
      const counted = await shoal('members', 'count', segmentId, '--json');
      expect(JSON.parse(counted.stdout)).toMatchObject({
        counts: [{ segmentId, memberCount: '1' }],
      });
    }, 60_000);
    const asked = await shoal('members', 'is-member', 'user:ann', segmentId);
    expect(asked.stdout.split('\n')[1]).toMatch(new RegExp(`^${segmentId}\\s+yes\\s`));
    expect(asked.code).toBe(EXIT.ok);
    const outsider = await shoal('members', 'is-member', 'user:nobody', segmentId);
    expect(outsider.stdout.split('\n')[1]).toMatch(new RegExp(`^${segmentId}\\s+no\\s`));
    expect(outsider.code).toBe(EXIT.notAMember);

    const tailed = await shoal(
      'events',
      'tail',
      '--from-beginning',
      '--segment',
      segmentId,
      '--limit',
      '1',
      '--json',
    );
    expect(tailed.code).toBe(EXIT.ok);
    expect(JSON.parse(tailed.stdout)).toMatchObject({
      kind: 'TRANSITION_KIND_ENTERED',
      segmentId,
      profileId: 'user:ann',
    });

    const listed = await shoal('segments', 'list');
    expect(listed.stdout).toMatch(new RegExp(`^${segmentId}\\s+Pro\\s+dynamic`, 'm'));
  });

  it('streams a file of several batches, accepting the good events and naming the bad one’s line and field', async () => {
    const events = file(
      'mixed.ndjson',
      [
        '{"type":"identify","messageId":"s-1","userId":"dee","traits":{"plan":"free"}}',
        '',
        '{"type":"track","messageId":"s-2","userId":"dee","event":" "}',
        '{"type":"track","messageId":"s-3","userId":"dee","event":"Page Viewed"}',
      ].join('\n'),
    );
    const ingested = await shoal('ingest', '-f', events, '--batch', '1');
    expect(ingested.code).toBe(EXIT.refused);
    expect(ingested.stdout).toBe(
      'accepted 2 of 3 events\n  line 3 (s-2) rejected: INVALID_EVENT\n    track.event: track needs a non-empty event name\n',
    );
  });

  it('prints a bad rule’s violations with their paths and ends with 4', async () => {
    const rule = file(
      'bad.json',
      JSON.stringify({ condition: { event: { name: '', count: { gt: 1 } } } }),
    );
    const refused = await shoal('segments', 'create', '-f', rule, '--name', 'Bad');
    expect(refused.code).toBe(EXIT.refused);
    expect(refused.stderr).toMatch(/^shoal: INVALID_ARGUMENT: /);
    expect(refused.stderr).toMatch(/^ {2}\S*condition\.event\.name: /m);
  });

  it('ends with 3 for a segment that does not exist', async () => {
    const missing = await shoal('segments', 'get', 'seg_doesnotexist00000000');
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('NOT_FOUND');
  });

  it('keeps a static list: import from CSV, members, rename and its history', async () => {
    const created = await shoal('segments', 'create', '--list', '--name', 'VIP', '--json');
    const listId = (JSON.parse(created.stdout) as { segment: { id: string } }).segment.id;
    const ids = file('vip.csv', 'profile_id,name\nuser:ann,Ann\nuser:bob,Bob\nuser:cy,Cy\n');
    const imported = await shoal('lists', 'import', listId, ids, '--batch', '2');
    expect(imported).toMatchObject({ code: EXIT.ok });
    expect(imported.stdout).toContain('read 3 ids');
    expect(await shoal('lists', 'remove', listId, 'user:cy')).toMatchObject({ code: EXIT.ok });
    const members = await shoal('lists', 'members', listId, '--json');
    expect(JSON.parse(members.stdout)).toEqual({ memberIds: ['user:ann', 'user:bob'] });

    expect(await shoal('segments', 'rename', listId, 'Top customers')).toMatchObject({
      code: EXIT.ok,
    });
    const history = await shoal('segments', 'history', listId);
    expect(
      history.stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(/\s{2,}/).slice(0, 2)),
    ).toEqual([
      ['2', 'renamed'],
      ['1', 'created'],
    ]);
  });

  it('runs the demo on segments it makes: the feed streamed, the malformed record dead-lettered, sizes on the board', async () => {
    const lines: string[] = [];
    await runDemo(
      {
        user: 'ann',
        address: (service) => addresses.get(service) ?? '127.0.0.1:1',
        token: async () => token,
        kafkaBrokers: testInfrastructure().kafkaBrokers,
        topicPrefix: scope.topicPrefix,
      },
      {
        out: (line) => lines.push(line),
        live: false,
        durationMs: 15_000,
        signal: new AbortController().signal,
      },
    );
    const text = lines.join('\n');
    expect(text).toMatch(
      /sent the history of 200 customers \(\d+ events, and one malformed record\)/,
    );
    expect(text).toMatch(/the demo feed stopped after \d+ events/);
    // the last board: every segment counted, members where the history puts them
    const board = text.slice(text.lastIndexOf('events sent upstream'));
    expect(board).toMatch(/, 1 malformed dead-lettered/);
    const members = (name: string) =>
      Number(new RegExp(`^${name}\\s+(\\d+)\\s`, 'm').exec(board)?.[1] ?? NaN);
    expect(members('Retirement readers')).toBeGreaterThan(0);
    expect(members('VIP customers')).toBeGreaterThan(0);
    expect(members('Loyal but lapsed')).toBeGreaterThanOrEqual(0);
    expect(members('Winter buyers not opening email')).toBeGreaterThanOrEqual(0);
    expect(board).toMatch(/^ {2}entered {2}Retirement readers {2}user:demo-\d+$/m);
  });
});
