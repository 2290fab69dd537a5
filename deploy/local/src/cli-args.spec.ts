import { formatEnv, formatStatusTable, parseCliArgs } from './cli-args';
import { LocalInfraErrorCode } from './errors';

describe('parseCliArgs', () => {
  it.each(['provision', 'up', 'down', 'env'] as const)('accepts %s without arguments', (name) => {
    expect(parseCliArgs([name])).toEqual({ name });
  });

  it('shows help without a command', () => {
    expect(parseCliArgs([])).toEqual({ name: 'help' });
    expect(parseCliArgs(['--help'])).toEqual({ name: 'help' });
  });

  it('prints status as a table unless --json is given', () => {
    expect(parseCliArgs(['status'])).toEqual({ name: 'status', json: false });
    expect(parseCliArgs(['status', '--json'])).toEqual({ name: 'status', json: true });
  });

  it('shows the last 50 log lines unless --lines says otherwise', () => {
    expect(parseCliArgs(['logs', 'kafka'])).toEqual({
      name: 'logs',
      component: 'kafka',
      lines: 50,
    });
    expect(parseCliArgs(['logs', 'mongo', '--lines', '5'])).toMatchObject({ lines: 5 });
    expect(parseCliArgs(['logs', 'mongo', '--lines=7'])).toMatchObject({ lines: 7 });
  });

  it.each([
    [['bogus'], "unknown command 'bogus'"],
    [['up', 'now'], "unexpected argument 'now' for up"],
    [['status', '--yaml'], "unexpected argument '--yaml' for status"],
    [['logs'], 'logs needs a component: kafka or mongo'],
    [['logs', 'redis'], 'logs needs a component: kafka or mongo'],
    [['logs', 'kafka', '--lines'], "--lines needs a positive whole number, got ''"],
    [['logs', 'kafka', '--lines', '0'], "--lines needs a positive whole number, got '0'"],
    [['logs', 'kafka', '--follow'], "unknown option '--follow' for logs"],
  ])('rejects %j with a usage error: %s', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(
      expect.objectContaining({
        code: LocalInfraErrorCode.Usage,
        message: expect.stringContaining(message),
      }),
    );
  });
});

describe('formatEnv', () => {
  it('prints one KEY=value line per endpoint, brokers comma-separated', () => {
    expect(
      formatEnv({
        kafkaBrokers: ['127.0.0.1:1', '127.0.0.1:2'],
        mongoUrl: 'mongodb://127.0.0.1:3/',
      }),
    ).toBe('KAFKA_BROKERS=127.0.0.1:1,127.0.0.1:2\nMONGO_URL=mongodb://127.0.0.1:3/\n');
  });
});

describe('formatStatusTable', () => {
  it('aligns columns and marks what is missing', () => {
    const table = formatStatusTable([
      { component: 'kafka', running: true, ready: true, pid: 4242, endpoint: '127.0.0.1:19092' },
      {
        component: 'mongo',
        running: false,
        ready: false,
        endpoint: 'mongodb://127.0.0.1:27027/',
        detail: 'port in use',
      },
    ]);
    expect(table.split('\n')).toEqual([
      'COMPONENT  RUNNING  READY  PID   ENDPOINT                    DETAIL',
      'kafka      yes      yes    4242  127.0.0.1:19092',
      'mongo      no       no     -     mongodb://127.0.0.1:27027/  port in use',
      '',
    ]);
  });
});
