import { ConfigError, loadConfig } from './config';
import { secretValues } from './secrets';
import { serviceConfigSchema, describeVariables } from './service-config';

const schema = serviceConfigSchema({ service: 'demo', grpcPort: 50099, httpPort: 9499 }, {});
const minimal = {
  KAFKA_BROKERS: '127.0.0.1:19092',
  MONGO_URL: 'mongodb://127.0.0.1:27027',
  AUTH_JWKS_FILE: '/keys/jwks.json',
  PAGE_TOKEN_SECRET_FILE: '/keys/page-token-secret',
};

function problemsOf(env: Record<string, string | undefined>) {
  try {
    loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.variable);
    throw error;
  }
  return [];
}

describe('service configuration', () => {
  it('applies defaults, including the service’s own ports and database', () => {
    const config = loadConfig(schema, minimal);
    expect(config).toMatchObject({
      SHOAL_ENV: 'development',
      GRPC_PORT: 50099,
      HTTP_PORT: 9499,
      MONGO_DATABASE: 'shoal_demo',
      KAFKA_CLIENT_ID: 'shoal-demo',
      KAFKA_BROKERS: ['127.0.0.1:19092'],
      KAFKA_SSL: false,
    });
  });

  it('names every missing required variable at once', () => {
    expect(problemsOf({}).sort()).toEqual([
      'AUTH_JWKS_FILE',
      'KAFKA_BROKERS',
      'MONGO_URL',
      'PAGE_TOKEN_SECRET_FILE',
    ]);
  });

  it('names a variable whose value is malformed', () => {
    expect(problemsOf({ ...minimal, GRPC_PORT: 'eighty' })).toEqual(['GRPC_PORT']);
    expect(problemsOf({ ...minimal, KAFKA_SSL: 'maybe' })).toEqual(['KAFKA_SSL']);
    expect(problemsOf({ ...minimal, LOG_LEVEL: 'loud' })).toEqual(['LOG_LEVEL']);
    expect(problemsOf({ ...minimal, KAFKA_TOPIC_PREFIX: 'has space' })).toEqual([
      'KAFKA_TOPIC_PREFIX',
    ]);
  });

  it('treats an empty value as unset, so the default applies', () => {
    expect(loadConfig(schema, { ...minimal, GRPC_PORT: '' }).GRPC_PORT).toBe(50099);
  });

  it('refuses half-configured TLS and SASL', () => {
    expect(problemsOf({ ...minimal, GRPC_TLS_CERT_FILE: '/tls/cert.pem' })).toEqual([
      'GRPC_TLS_KEY_FILE',
    ]);
    expect(
      problemsOf({ ...minimal, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }),
    ).toEqual(['KAFKA_SASL_PASSWORD']);
  });

  it('requires a service signing key and the service key set in production', () => {
    expect(problemsOf({ ...minimal, SHOAL_ENV: 'production' })).toEqual([
      'SERVICE_TOKEN_KEY_FILE',
      'SERVICE_TOKEN_JWKS_FILE',
    ]);
  });

  it('refuses a service token issuer equal to the user token issuer', () => {
    expect(problemsOf({ ...minimal, AUTH_ISSUER: 'acme', SERVICE_TOKEN_ISSUER: 'acme' })).toEqual([
      'SERVICE_TOKEN_ISSUER',
    ]);
  });

  it('says which variable is wrong in the error message', () => {
    expect(() => loadConfig(schema, { ...minimal, HTTP_PORT: '70000' })).toThrow(/HTTP_PORT: /);
  });

  it('describes every variable for the documentation', () => {
    const rows = describeVariables(schema);
    expect(rows.find((r) => r.variable === 'GRPC_PORT')).toMatchObject({
      defaultValue: '50099',
      required: false,
    });
    expect(rows.find((r) => r.variable === 'KAFKA_BROKERS')).toMatchObject({ required: true });
    expect(rows.every((r) => r.description.length > 0)).toBe(true);
  });
});

describe('secret values', () => {
  it('collects secret-named variables and passwords inside connection strings', () => {
    const secrets = secretValues({
      KAFKA_SASL_PASSWORD: 'hunter2-kafka',
      MONGO_URL: 'mongodb://shoal:s3cr3t-pass@db:27017/x',
      GRPC_TLS_KEY_FILE: '/not/secret/path.pem',
      LOG_LEVEL: 'info',
    });
    expect(secrets).toEqual(expect.arrayContaining(['hunter2-kafka', 's3cr3t-pass']));
    expect(secrets).not.toContain('/not/secret/path.pem');
    expect(secrets).not.toContain('info');
  });
});
