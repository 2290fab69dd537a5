import { createLogger } from './logger';
import { SecretMask } from './secret-mask';

function capture(secrets: string[]) {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'test',
    version: '0.0.0',
    level: 'debug',
    secrets: new SecretMask(secrets),
    destination: { write: (line) => lines.push(line) },
  });
  return { logger, output: () => lines.join('') };
}

describe('logger', () => {
  it('writes one JSON object per line with service and level', () => {
    const { logger, output } = capture([]);
    logger.info({ answer: 42 }, 'hello');
    const record = JSON.parse(output());
    expect(record).toMatchObject({ service: 'test', level: 'info', msg: 'hello', answer: 42 });
  });

  it('never writes a configured secret, wherever it appears', () => {
    const secret = 'p4ss-w0rd-"quoted"\nline';
    const { logger, output } = capture([secret]);
    logger.info({ config: { KAFKA_SASL_PASSWORD: secret } }, `connecting with ${secret}`);
    logger.error({ err: new Error(`login failed for ${secret}`) }, 'failed');
    expect(output()).not.toContain('p4ss-w0rd');
    expect(output()).toContain('[REDACTED]');
  });

  it('redacts credential fields by name', () => {
    const { logger, output } = capture([]);
    logger.info(
      { headers: { authorization: 'Bearer abc.def.ghi' }, password: 'pw-value' },
      'request',
    );
    expect(output()).not.toContain('abc.def.ghi');
    expect(output()).not.toContain('pw-value');
  });

  it('redacts credential fields at any depth, header names included', () => {
    const { logger, output } = capture([]);
    logger.info(
      {
        call: {
          request: {
            headers: {
              Cookie: 'session=c00kie-value',
              'X-Api-Key': 'api-k3y-value',
              'proxy-authorization': 'Basic cHJveHk6cHc=',
            },
          },
        },
        config: { destinations: [{ webhook: { options: { clientSecret: 'cl1ent-secret' } } }] },
        env: { KAFKA_SASL_PASSWORD: 'sasl-pw-value', LOG_LEVEL: 'debug' },
      },
      'request',
    );
    const text = output();
    for (const leaked of ['c00kie', 'api-k3y', 'cHJveHk6cHc', 'cl1ent-secret', 'sasl-pw-value']) {
      expect(text).not.toContain(leaked);
    }
    expect(JSON.parse(text)).toMatchObject({
      env: { KAFKA_SASL_PASSWORD: '[REDACTED]', LOG_LEVEL: 'debug' },
    });
  });

  it('redacts credential fields carried by an error', () => {
    const { logger, output } = capture([]);
    const error = Object.assign(new Error('request failed'), {
      config: { headers: { Authorization: 'Bearer err-b3arer' } },
    });
    logger.error({ err: error }, 'failed');
    expect(output()).not.toContain('err-b3arer');
    expect(output()).toContain('request failed');
  });

  it('leaves the caller’s objects as they were', () => {
    const { logger } = capture([]);
    const headers = { authorization: 'Bearer keep-me' };
    logger.info({ deep: { headers } }, 'x');
    expect(headers.authorization).toBe('Bearer keep-me');
  });

  it('keeps a line bounded when an error carries a store result with every id of a bulk write', () => {
    const { logger, output } = capture([]);
    class BulkResult {
      constructor(readonly insertedIds: Record<number, string>) {}
    }
    const insertedIds: Record<number, string> = {};
    for (let i = 0; i < 100_000; i++) insertedIds[i] = `user:u${i}`;
    const error = Object.assign(new Error('Connection interrupted'), {
      result: new BulkResult(insertedIds),
      writeErrors: Array.from({ length: 10_000 }, (_, index) => ({ index, code: 11000 })),
    });
    logger.warn({ err: error, ids: Object.values(insertedIds) }, 'checkpoint failed');
    const line = output();
    expect(line.length).toBeLessThan(16_384);
    expect(line).toContain('Connection interrupted');
    expect(line).toContain('user:u0');
    expect(line).not.toContain('user:u99999');
    expect(JSON.parse(line)).toMatchObject({
      msg: 'checkpoint failed',
      err: {
        type: 'Error',
        result: { insertedIds: { 0: 'user:u0', '…': '99,950 more fields' } },
        writeErrors: expect.arrayContaining([{ index: 19, code: 11000 }, '… 9,980 more']),
      },
      ids: expect.arrayContaining(['user:u19', '… 99,980 more']),
    });
  });

  it('redacts credential fields inside class instances an error carries', () => {
    const { logger, output } = capture([]);
    class Request {
      constructor(readonly headers: Record<string, string>) {}
    }
    const error = Object.assign(new Error('refused'), {
      request: new Request({ authorization: 'Bearer inst-s3cret' }),
    });
    logger.error({ err: error }, 'failed');
    expect(output()).not.toContain('inst-s3cret');
  });
});
