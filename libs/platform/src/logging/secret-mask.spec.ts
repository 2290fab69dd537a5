import { secretValues } from '../config/secrets';
import { SecretMask } from './secret-mask';

const maskOf = (env: Record<string, string>) => new SecretMask(secretValues(env));
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Each case: where a secret comes from, and a text it appears in, encoded as it would be. */
describe('secret masking in every encoding', () => {
  it('masks a secret as given and as JSON escapes it', () => {
    const mask = new SecretMask(['p4ss-"w0rd"\nline']);
    expect(mask.apply('raw p4ss-"w0rd"\nline')).toBe('raw [REDACTED]');
    expect(mask.apply(JSON.stringify({ v: 'p4ss-"w0rd"\nline' }))).toBe('{"v":"[REDACTED]"}');
  });

  it('masks a percent-encoded URL password as written, decoded and re-encoded', () => {
    const url = 'mongodb://shoal:p%40ss%2fW0rd%3A1@db.internal:27017/shoal?authSource=admin';
    const mask = maskOf({ MONGO_URL: url });
    const logged = mask.apply(`connecting to ${url}; password p@ss/W0rd:1; form p%40ss%2FW0rd%3A1`);
    expect(logged).not.toMatch(/p%40ss|p@ss|W0rd/i);
    expect(logged).toContain('mongodb://shoal:[REDACTED]@db.internal:27017/shoal?authSource=admin');
  });

  it('masks a password in a multi-host connection string', () => {
    const mask = maskOf({ MONGO_URL: 'mongodb://u:s3cr%24t-pw@a:1,b:2,c:3/?replicaSet=rs0' });
    expect(mask.apply('mongodb://u:s3cr%24t-pw@a:1,b:2,c:3 / s3cr$t-pw')).toBe(
      'mongodb://u:[REDACTED]@a:1,b:2,c:3 / [REDACTED]',
    );
  });

  it('masks credentials in URL query parameters, nested ones included', () => {
    const url =
      'mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:ses%2Bsion-tok3n,SERVICE_NAME:x&tlsCertificateKeyFilePassword=k3y-f1le%26pass';
    const mask = maskOf({ MONGO_URL: url });
    const logged = mask.apply(`${url} ses+sion-tok3n k3y-f1le&pass`);
    expect(logged).not.toMatch(/sion-tok3n|k3y-f1le/);
    expect(logged).toContain('SERVICE_NAME:x');
    expect(logged).toContain('authMechanism=MONGODB-AWS');
  });

  it('masks a secret that reaches a log URL-encoded or form-encoded', () => {
    const mask = maskOf({ KAFKA_SASL_PASSWORD: 'top secret/ü!' });
    expect(mask.apply(`q=${encodeURIComponent('top secret/ü!')}`)).toBe('q=[REDACTED]');
    expect(mask.apply('q=top+secret%2F%C3%BC%21')).toBe('q=[REDACTED]');
    expect(mask.apply('q=top%20secret%2f%c3%bc!')).toBe('q=[REDACTED]');
  });

  it('masks basic-auth credentials in headers, from a URL and from the SASL settings', () => {
    const mask = maskOf({
      MONGO_URL: 'https://ann:h0use-key@registry.example/x',
      KAFKA_SASL_USERNAME: 'shoal',
      KAFKA_SASL_PASSWORD: 'k4fka-pw',
    });
    const logged = mask.apply(
      `authorization: Basic ${b64('ann:h0use-key')}; Proxy-Authorization: Basic ${b64('shoal:k4fka-pw')}`,
    );
    expect(logged).toBe('authorization: Basic [REDACTED]; Proxy-Authorization: Basic [REDACTED]');
  });

  it('masks a secret as base64 on its own', () => {
    const mask = maskOf({ API_SECRET: 'the-api-secret' });
    expect(mask.apply(`x-api-key: ${b64('the-api-secret')}`)).toBe('x-api-key: [REDACTED]');
    expect(mask.apply(`k=${Buffer.from('the-api-secret').toString('base64url')}`)).toBe(
      'k=[REDACTED]',
    );
  });

  it('masks secrets nested inside a JSON configuration value', () => {
    const mask = maskOf({
      DESTINATION_DEFAULTS: JSON.stringify({
        webhook: { headers: { Authorization: 'Bearer nested-b3arer' }, url: 'https://h/x' },
        store: { url: 'postgres://u:n3sted-pw@h/db', options: { clientSecret: 'n3sted-client' } },
      }),
    });
    expect(mask.apply('nested-b3arer n3sted-pw n3sted-client https://h/x')).toBe(
      '[REDACTED] [REDACTED] [REDACTED] https://h/x',
    );
  });

  it('masks the longest form first, leaving no part of a secret behind', () => {
    const mask = new SecretMask(['abcd', 'abcd-efgh-ijkl']);
    expect(mask.apply('abcd-efgh-ijkl')).toBe('[REDACTED]');
  });

  it('takes settings about tokens and key files for settings, not secrets', () => {
    expect(
      secretValues({
        AUTH_MAX_TOKEN_LIFETIME_SECONDS: '86400',
        SERVICE_TOKEN_ISSUER: 'shoal-service',
        SERVICE_TOKEN_KEY_FILE: '/keys/service.json',
        PAGE_TOKEN_SECRET_FILE: '/keys/page-token-secret',
        GITHUB_TOKEN: 'ghp-real-token',
        AWS_SECRET_ACCESS_KEY: 'aws-secret-key',
      }).sort(),
    ).toEqual(['aws-secret-key', 'ghp-real-token']);
  });
});
