import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../app/bootstrap';
import { ConfigError } from '../config/config';
import { serviceConfigSchema } from '../config/service-config';
import { ensureDevKeys } from './token-signer';
import { createTokenVerifier } from './token-verifier';

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

  it('refuses to verify tokens with development keys in production', async () => {
    const keys = await ensureDevKeys(dir);
    const settings = { AUTH_ISSUER: 'shoal', AUTH_AUDIENCE: 'shoal', AUTH_GROUPS_CLAIM: 'groups' };
    await expect(
      createTokenVerifier({ ...settings, AUTH_JWKS_FILE: keys.jwksFile, SHOAL_ENV: 'development' }),
    ).resolves.toBeDefined();
    expect(
      await variablesOfRefusal(() =>
        createTokenVerifier({
          ...settings,
          AUTH_JWKS_FILE: keys.jwksFile,
          SHOAL_ENV: 'production',
        }),
      ),
    ).toEqual(['AUTH_JWKS_FILE']);
  });

  it('refuses to start a production service with a development signing key', async () => {
    const keys = await ensureDevKeys(dir);
    const env = {
      SHOAL_ENV: 'production',
      KAFKA_BROKERS: '127.0.0.1:1',
      MONGO_URL: 'mongodb://127.0.0.1:1',
      AUTH_JWKS_FILE: keys.jwksFile,
      SERVICE_TOKEN_KEY_FILE: keys.signingKeyFile,
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
      JSON.stringify({ keys: [JSON.parse(readFileSync(keys.signingKeyFile, 'utf8'))] }),
    );
    const settings = {
      AUTH_ISSUER: 'shoal',
      AUTH_AUDIENCE: 'shoal',
      AUTH_GROUPS_CLAIM: 'groups',
      SHOAL_ENV: 'development',
    };
    const error = await createTokenVerifier({ ...settings, AUTH_JWKS_FILE: leaky }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('private key material');
  });
});
