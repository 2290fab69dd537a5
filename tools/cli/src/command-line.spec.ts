import { EXIT, type ParsedCommandLine, parseCommandLine } from './command-line';

function parse(...argv: string[]): ParsedCommandLine & { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const parsed = parseCommandLine(argv, {
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
  });
  return { ...parsed, stdout, stderr };
}

function commandOf(...argv: string[]) {
  const parsed = parse(...argv);
  if (!('command' in parsed))
    throw new Error(`no command from ${argv.join(' ')}: ${parsed.stderr}`);
  return parsed.command;
}

describe('./shoal', () => {
  it.each(['down', 'status', 'test'] as const)('runs %s without arguments', (name) => {
    expect(commandOf(name)).toEqual({ name });
  });

  it('starts everything with the demo unless --no-demo is given', () => {
    expect(commandOf('up')).toEqual({ name: 'up', demo: true });
    expect(commandOf('up', '--no-demo')).toEqual({ name: 'up', demo: false });
  });

  it('runs the demo until stopped unless --duration bounds it', () => {
    expect(commandOf('demo')).toEqual({ name: 'demo' });
    expect(commandOf('up', '--duration', '30')).toEqual({
      name: 'up',
      demo: true,
      durationSeconds: 30,
    });
    expect(commandOf('demo', '--duration=5')).toEqual({ name: 'demo', durationSeconds: 5 });
  });

  it('makes a developer user token for an hour by default', () => {
    expect(commandOf('token')).toEqual({
      name: 'token',
      subject: 'developer',
      groups: [],
      ttlSeconds: 3_600,
    });
  });

  it('makes a user token for the subject, groups and lifetime given', () => {
    expect(
      commandOf('token', '--subject', 'ann', '--groups', 'marketing, profile-readers', '--ttl=600'),
    ).toEqual({
      name: 'token',
      subject: 'ann',
      groups: ['marketing', 'profile-readers'],
      ttlSeconds: 600,
    });
  });

  it('makes a service token for a service of Shoal', () => {
    expect(commandOf('token', '--service', 'membership')).toEqual({
      name: 'service-token',
      service: 'membership',
    });
  });

  it('shows the last 50 lines of a log unless --lines says otherwise', () => {
    expect(commandOf('logs', 'segments')).toEqual({ name: 'logs', source: 'segments', lines: 50 });
    expect(commandOf('logs', 'kafka', '--lines', '5')).toEqual({
      name: 'logs',
      source: 'kafka',
      lines: 5,
    });
  });

  it('prints the help on stdout and ends well for help, --help and no command at all', () => {
    for (const argv of [['help'], ['--help'], []]) {
      const parsed = parse(...argv);
      expect(parsed).toMatchObject({ exitCode: EXIT.ok, stderr: '' });
      expect(parsed.stdout).toContain('Usage: ./shoal [options] [command]');
      for (const command of ['up', 'down', 'status', 'token', 'logs', 'infra', 'test']) {
        expect(parsed.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
      }
    }
  });

  it('prints the help of one command', () => {
    const parsed = parse('token', '--help');
    expect(parsed).toMatchObject({ exitCode: EXIT.ok });
    expect(parsed.stdout).toContain('Usage: ./shoal token [options]');
    expect(parsed.stdout).toContain('--service <name>');
  });

  it.each([
    [['bogus'], "shoal: unknown command 'bogus'"],
    [['stauts'], '(Did you mean status?)'],
    [['up', '--demo=no'], "shoal: unknown option '--demo=no'"],
    [['down', 'now'], "shoal: too many arguments for 'down'"],
    [['token', '--ttl', '0'], "option '--ttl <seconds>' argument '0' is invalid"],
    [['token', '--ttl', '1h'], "option '--ttl <seconds>' argument '1h' is invalid"],
    [['token', '--subject'], "shoal: option '--subject <user>' argument missing"],
    [['token', '--service', 'billing'], 'Allowed choices are ingestion, segments, membership'],
    [
      ['token', '--service', 'membership', '--subject', 'ann'],
      "shoal: option '--service <name>' cannot be used with option '--subject <user>'",
    ],
    [['logs'], "shoal: missing required argument 'source'"],
    [
      ['logs', 'redis'],
      "value 'redis' is invalid for argument 'source'. Allowed choices are ingestion, segments",
    ],
  ])('refuses %j with a usage error: %s', (argv, message) => {
    const parsed = parse(...argv);
    expect(parsed).toMatchObject({ exitCode: EXIT.usage, stdout: '' });
    expect(parsed.stderr).toContain(message);
    expect(parsed.stderr).toContain('(add --help for the usage)');
  });
});

describe('./shoal infra', () => {
  it.each(['provision', 'up', 'down', 'env'] as const)('runs %s without arguments', (name) => {
    expect(commandOf('infra', name)).toEqual({ name: 'infra', infra: { name } });
  });

  it('prints status as a table unless --json is given', () => {
    expect(commandOf('infra', 'status')).toEqual({
      name: 'infra',
      infra: { name: 'status', json: false },
    });
    expect(commandOf('infra', 'status', '--json')).toEqual({
      name: 'infra',
      infra: { name: 'status', json: true },
    });
  });

  it('shows the last 50 log lines unless --lines says otherwise', () => {
    expect(commandOf('infra', 'logs', 'kafka')).toEqual({
      name: 'infra',
      infra: { name: 'logs', component: 'kafka', lines: 50 },
    });
    expect(commandOf('infra', 'logs', 'mongo', '--lines', '5')).toMatchObject({
      infra: { lines: 5 },
    });
    expect(commandOf('infra', 'logs', 'mongo', '--lines=7')).toMatchObject({
      infra: { lines: 7 },
    });
  });

  it('names its environment variables in its help', () => {
    const parsed = parse('infra', '--help');
    expect(parsed).toMatchObject({ exitCode: EXIT.ok });
    expect(parsed.stdout).toContain('Usage: ./shoal infra [options] [command]');
    expect(parsed.stdout).toContain('SHOAL_KAFKA_PORT (19092)');
  });

  it('shows its help as a usage error when no infra command is given', () => {
    const parsed = parse('infra');
    expect(parsed).toMatchObject({ exitCode: EXIT.usage, stdout: '' });
    expect(parsed.stderr).toContain('Usage: ./shoal infra [options] [command]');
  });

  it.each([
    [['bogus'], "shoal: unknown command 'bogus'"],
    [['up', 'now'], "shoal: too many arguments for 'up'"],
    [['status', '--yaml'], "shoal: unknown option '--yaml'"],
    [['logs'], "shoal: missing required argument 'component'"],
    [
      ['logs', 'redis'],
      "value 'redis' is invalid for argument 'component'. Allowed choices are kafka, mongo.",
    ],
    [['logs', 'kafka', '--lines'], "shoal: option '--lines <n>' argument missing"],
    [['logs', 'kafka', '--lines', '0'], "option '--lines <n>' argument '0' is invalid"],
    [['logs', 'kafka', '--lines', '2.5'], "option '--lines <n>' argument '2.5' is invalid"],
    [['logs', 'kafka', '--follow'], "shoal: unknown option '--follow'"],
  ])('refuses infra %j with a usage error: %s', (argv, message) => {
    const parsed = parse('infra', ...argv);
    expect(parsed).toMatchObject({ exitCode: EXIT.usage, stdout: '' });
    expect(parsed.stderr).toContain(message);
  });
});
