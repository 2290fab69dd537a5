import { ConfigError } from '@shoal/platform';
import { LogCollector, TestScope, testInfrastructure } from '@shoal/testing';
import { ingestionService } from '../src/service';

describe('a MONGO_URL password in the logs', () => {
  const scope = new TestScope();
  afterAll(() => scope.close());

  it('never appears, however it is encoded, even when the store refuses it', async () => {
    const password = 'Sh0al/p@ss:w%rd';
    // as an operator writes it: percent-encoded, lower-case escapes
    const written = 'Sh0al%2fp%40ss%3aw%25rd';
    expect(decodeURIComponent(written)).toBe(password);
    const mongoUrl = testInfrastructure().mongoUrl.replace(
      'mongodb://',
      `mongodb://shoal-user:${written}@`,
    );
    const logs = new LogCollector();

    const outcome = await scope
      .start(ingestionService, { LOG_LEVEL: 'debug', MONGO_URL: mongoUrl }, { logs })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    // the store does not take these credentials: the service says so at once, naming the variable
    expect(outcome).toBeInstanceOf(ConfigError);
    expect((outcome as ConfigError).problems.map((p) => p.variable)).toEqual(['MONGO_URL']);
    expect(logs.text).toContain('shoal-user');
    for (const form of [
      written,
      password,
      encodeURIComponent(password),
      Buffer.from(`shoal-user:${password}`).toString('base64'),
    ]) {
      expect(logs.text).not.toContain(form);
    }
    expect((outcome as Error).message).not.toContain(written);
  });
});
