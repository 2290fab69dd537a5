import { formatEnv, formatStatusTable } from './infra-output';

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
