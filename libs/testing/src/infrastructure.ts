import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureDevKeys } from '@shoal/platform';

/** Where the real infrastructure for this test run is, passed to test workers through env. */
export interface TestInfrastructure {
  readonly kafkaBrokers: string[];
  readonly mongoUrl: string;
  readonly jwksFile: string;
  readonly signingKeyFile: string;
}

export const ENV = {
  kafkaBrokers: 'SHOAL_TEST_KAFKA_BROKERS',
  mongoUrl: 'SHOAL_TEST_MONGO_URL',
  jwksFile: 'SHOAL_TEST_JWKS_FILE',
  signingKeyFile: 'SHOAL_TEST_SIGNING_KEY_FILE',
} as const;

export const repoRoot = resolve(__dirname, '../../..');

/** Endpoints as the global setup published them; fails clearly outside a configured run. */
export function testInfrastructure(): TestInfrastructure {
  const brokers = process.env[ENV.kafkaBrokers];
  const mongoUrl = process.env[ENV.mongoUrl];
  const jwksFile = process.env[ENV.jwksFile];
  const signingKeyFile = process.env[ENV.signingKeyFile];
  if (!brokers || !mongoUrl || !jwksFile || !signingKeyFile) {
    throw new Error(
      'test infrastructure is not set up: run integration tests through their jest config ' +
        '(jest -c jest.integration.config.js), whose global setup provides Kafka and the store',
    );
  }
  return { kafkaBrokers: brokers.split(','), mongoUrl, jwksFile, signingKeyFile };
}

/** Development keys for test tokens, shared by every test of a run. */
export function testKeys() {
  return ensureDevKeys(join(repoRoot, '.shoal', 'keys'));
}

/** Whether a Docker engine is plausibly reachable (checked before asking testcontainers). */
export function dockerLikelyAvailable(): boolean {
  return !!process.env.DOCKER_HOST || existsSync('/var/run/docker.sock');
}
