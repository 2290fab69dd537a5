import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../app/bootstrap';
import { ConfigError } from '../config/config';
import { serviceConfigSchema } from '../config/service-config';
import { ensureDevKeys } from './token-signer';
import { type TokenVerifierConfig, createTokenVerifier } from './token-verifier';

const definition = {
  name: 'demo',
  version: '0',
  configSchema: serviceConfigSchema({ service: 'demo', grpcPort: 0, httpPort: 0 }, {}),
  topics: [],
  features: [],
};

describe('production keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const variablesOfRefusal = async (start: () => Promise<unknown>) => {
    const error = await start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.variable);
  };
  const settings = (overrides: Partial<TokenVerifierConfig>): TokenVerifierConfig => ({
    AUTH_ISSUER: 'shoal',
    AUTH_AUDIENCE: 'shoal',
    AUTH_GROUPS_CLAIM: 'groups',
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: 3_600,
    SERVICE_TOKEN_ISSUER: 'shoal-service',
    SHOAL_ENV: 'development',
    ...overrides,
  });

  it('refuses to verify tokens with development keys in production', async () => {
    const keys = await ensureDevKeys(dir);
    const files = {
      AUTH_JWKS_FILE: keys.userJwksFile,
      SERVICE_TOKEN_JWKS_FILE: keys.serviceJwksFile,
    };
    await expect(createTokenVerifier(settings(files))).resolves.toBeDefined();
    expect(
      await variablesOfRefusal(() =>
        createTokenVerifier(settings({ ...files, SHOAL_ENV: 'production' })),
      ),
    ).toEqual(['AUTH_JWKS_FILE']);
    expect(
      await variablesOfRefusal(() =>
        createTokenVerifier(
          settings({
            AUTH_JWKS_URL: 'https://idp.example/jwks',
            SERVICE_TOKEN_JWKS_FILE: keys.serviceJwksFile,
            SHOAL_ENV: 'production',
          }),
        ),
      ),
    ).toEqual(['SERVICE_TOKEN_JWKS_FILE']);
  });

  it('refuses to start a production service with development keys or secrets', async () => {
    const keys = await ensureDevKeys(dir);
    const env = {
      SHOAL_ENV: 'production',
      KAFKA_BROKERS: '127.0.0.1:1',
      MONGO_URL: 'mongodb://127.0.0.1:1',
      AUTH_JWKS_URL: 'https://idp.example/jwks',
      SERVICE_TOKEN_JWKS_FILE: keys.serviceJwksFile,
      SERVICE_TOKEN_KEY_FILE: keys.serviceSigningKeyFile,
      PAGE_TOKEN_SECRET_FILE: keys.pageTokenSecretFile,
    };
    expect(
      await variablesOfRefusal(() =>
        startService(definition, { env, logDestination: { write: () => true } }),
      ),
    ).toEqual(['SERVICE_TOKEN_KEY_FILE']);
  });

  it('refuses a JWKS file that carries private key material', async () => {
    const keys = await ensureDevKeys(dir);
    const leaky = join(dir, 'leaky-jwks.json');
    writeFileSync(
      leaky,
      JSON.stringify({ keys: [JSON.parse(readFileSync(keys.userSigningKeyFile, 'utf8'))] }),
    );
    const error = await createTokenVerifier(settings({ AUTH_JWKS_FILE: leaky })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('private key material');
  });

  it('refuses a key that both user and service tokens would be trusted with', async () => {
    const keys = await ensureDevKeys(dir);
    expect(
      await variablesOfRefusal(() =>
        createTokenVerifier(
          settings({
            AUTH_JWKS_FILE: keys.userJwksFile,
            SERVICE_TOKEN_JWKS_FILE: keys.userJwksFile,
          }),
        ),
      ),
    ).toEqual(['SERVICE_TOKEN_JWKS_FILE']);
  });

  it('refuses to sign service tokens with a key trusted for user tokens, or one no service trusts', async () => {
    const keys = await ensureDevKeys(dir);
    const env = {
      KAFKA_BROKERS: '127.0.0.1:1',
      MONGO_URL: 'mongodb://127.0.0.1:1',
      AUTH_JWKS_FILE: keys.userJwksFile,
      SERVICE_TOKEN_JWKS_FILE: keys.serviceJwksFile,
      PAGE_TOKEN_SECRET_FILE: keys.pageTokenSecretFile,
    };
    const start = (signingKey: string) => () =>
      startService(definition, {
        env: { ...env, SERVICE_TOKEN_KEY_FILE: signingKey },
        logDestination: { write: () => true },
      });
    expect(await variablesOfRefusal(start(keys.userSigningKeyFile))).toEqual([
      'SERVICE_TOKEN_KEY_FILE',
    ]);
    const other = await ensureDevKeys(join(dir, 'other'));
    expect(await variablesOfRefusal(start(other.serviceSigningKeyFile))).toEqual([
      'SERVICE_TOKEN_KEY_FILE',
    ]);
  });
});
