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
});
