import { EXIT, type ParsedCommandLine, parseCommandLine } from '../command-line';

function parse(...argv: string[]): ParsedCommandLine & { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const parsed = parseCommandLine(argv, {
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
  });
  return { ...parsed, stdout, stderr };
}

function apiCommandOf(...argv: string[]) {
  const parsed = parse(...argv);
  if (!('command' in parsed) || parsed.command.name !== 'api') {
    throw new Error(`no service command from ${argv.join(' ')}: ${parsed.stderr}`);
  }
  return { ...parsed.command.api, json: parsed.command.json };
}

describe('./shoal service commands', () => {
  it('lists segments as a table by default and as JSON with --json', () => {
    expect(apiCommandOf('segments', 'list')).toEqual({
      name: 'segments list',
      tags: [],
      limit: 100,
      json: false,
    });
    expect(
      apiCommandOf('segments', 'list', '--search', 'vip', '--tag', 'a', '--tag', 'b', '--json'),
    ).toEqual({
      name: 'segments list',
      search: 'vip',
      tags: ['a', 'b'],
      limit: 100,
      json: true,
    });
  });

  it('creates a dynamic segment from a rule file with the fields given', () => {
    expect(
      apiCommandOf(
        'segments',
        'create',
        '-f',
        'rule.json',
        '--name',
        'Lapsed',
        '--refresh',
        'scheduled',
        '--cron',
        '0 */4 * * *',
        '--shared',
      ),
    ).toEqual({
      name: 'segments create',
      file: 'rule.json',
      list: false,
      draft: false,
      segmentName: 'Lapsed',
      refresh: 'scheduled',
      cron: '0 */4 * * *',
      shared: true,
      json: false,
    });
  });

  it('creates a static list with --list and no rule', () => {
    expect(apiCommandOf('segments', 'create', '--list', '--name', 'VIP')).toMatchObject({
      name: 'segments create',
      list: true,
      segmentName: 'VIP',
    });
  });

  it.each([
    [['segments', 'create', '--name', 'x'], '-f <rule.json> or --list is required'],
    [['segments', 'create', '-f', 'r.json'], '--name is required'],
    [['segments', 'create', '--list', '-f', 'r.json', '--name', 'x'], 'a static list has no rule'],
    [['segments', 'edit', 'seg_1'], 'nothing to change'],
    [['segments', 'edit', 'seg_1', '--cron', '* * * * *'], '--cron goes with --refresh scheduled'],
    [['destinations', 'create', '--name', 'd'], 'exactly one of --webhook'],
  ])('refuses %j as a usage error: %s', (argv, message) => {
    const parsed = parse(...argv);
    expect(parsed).toMatchObject({ exitCode: EXIT.usage });
    expect(parsed.stderr).toContain(message);
  });

  it('edits only the fields given', () => {
    expect(apiCommandOf('segments', 'edit', 'seg_1', '--description', 'new')).toEqual({
      name: 'segments edit',
      id: 'seg_1',
      description: 'new',
      json: false,
    });
  });

  it('reverts to a version given as a positive whole number', () => {
    expect(apiCommandOf('segments', 'revert', 'seg_1', '3')).toMatchObject({ toVersion: 3 });
    expect(parse('segments', 'revert', 'seg_1', 'three')).toMatchObject({ exitCode: EXIT.usage });
  });

  it('adds, removes and imports list members', () => {
    expect(apiCommandOf('lists', 'add', 'seg_l', 'p1', 'p2')).toMatchObject({
      name: 'lists add',
      listId: 'seg_l',
      memberIds: ['p1', 'p2'],
    });
    expect(apiCommandOf('lists', 'import', 'seg_l', 'ids.csv', '--batch', '500')).toMatchObject({
      name: 'lists import',
      file: 'ids.csv',
      batchSize: 500,
    });
  });

  it('asks about membership', () => {
    expect(apiCommandOf('members', 'is-member', 'p1', 'seg_a', 'seg_b')).toMatchObject({
      profileId: 'p1',
      segmentIds: ['seg_a', 'seg_b'],
    });
    expect(apiCommandOf('members', 'preview', '-f', 'r.json')).toMatchObject({
      file: 'r.json',
      sample: 10,
    });
    expect(parse('members', 'preview')).toMatchObject({ exitCode: EXIT.usage });
  });

  it('exports CSV only when --csv says so', () => {
    expect(
      apiCommandOf('members', 'export', 'seg_a', '--csv', '--trait', 'email', '-o', 'a.csv'),
    ).toEqual({
      name: 'members export',
      segmentId: 'seg_a',
      traits: ['email'],
      output: 'a.csv',
      json: false,
    });
    expect(parse('members', 'export', 'seg_a')).toMatchObject({ exitCode: EXIT.usage });
  });

  it('refreshes segments and optionally follows the jobs', () => {
    expect(apiCommandOf('jobs', 'refresh', 'seg_a', '--wait')).toMatchObject({
      segmentIds: ['seg_a'],
      wait: true,
    });
  });

  it('creates a destination of exactly one kind', () => {
    expect(
      apiCommandOf(
        'destinations',
        'create',
        '--name',
        'crm',
        '--kafka-topic',
        'crm.members',
        '--brokers',
        'a:9092, b:9092',
      ),
    ).toMatchObject({
      destinationName: 'crm',
      target: { kind: 'kafka', topic: 'crm.members', brokers: ['a:9092', 'b:9092'] },
    });
  });

  it('links a segment incrementally without auto-sync by default', () => {
    expect(apiCommandOf('destinations', 'link', 'dst_1', 'seg_a')).toMatchObject({
      mode: 'incremental',
      autoSync: false,
    });
  });

  it('tails events from now unless --from-beginning, optionally a limited number', () => {
    expect(apiCommandOf('events', 'tail')).toEqual({
      name: 'events tail',
      fromBeginning: false,
      json: false,
    });
    expect(apiCommandOf('events', 'tail', '--segment', 'seg_a', '--limit', '5')).toMatchObject({
      segmentId: 'seg_a',
      limit: 5,
    });
  });

  it('ingests a file in batches of 1000 by default', () => {
    expect(apiCommandOf('ingest', '-f', 'events.ndjson')).toEqual({
      name: 'ingest',
      file: 'events.ndjson',
      batchSize: 1000,
      json: false,
    });
  });

  it('shows every service command group in the help', () => {
    const { stdout } = parse('--help');
    for (const group of [
      'segments',
      'lists',
      'members',
      'jobs',
      'destinations',
      'events',
      'ingest',
    ]) {
      expect(stdout).toMatch(new RegExp(`^  ${group}\\b`, 'm'));
    }
  });
});
