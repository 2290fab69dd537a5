import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type DevKeyFiles, devKeyFiles, ensureDevKeys } from '@shoal/platform';

/** Where the real infrastructure for this test run is, passed to test workers through env. */
export interface TestInfrastructure {
  readonly kafkaBrokers: string[];
  readonly mongoUrl: string;
  /** The run's development keys and page-token secret. */
  readonly keys: DevKeyFiles;
}

export const ENV = {
  kafkaBrokers: 'SHOAL_TEST_KAFKA_BROKERS',
  mongoUrl: 'SHOAL_TEST_MONGO_URL',
  keysDir: 'SHOAL_TEST_KEYS_DIR',
} as const;

export const repoRoot = resolve(__dirname, '../../..');

/** Endpoints as the global setup published them; fails clearly outside a configured run. */
export function testInfrastructure(): TestInfrastructure {
  const brokers = process.env[ENV.kafkaBrokers];
  const mongoUrl = process.env[ENV.mongoUrl];
  const keysDir = process.env[ENV.keysDir];
  if (!brokers || !mongoUrl || !keysDir) {
    throw new Error(
      'test infrastructure is not set up: run integration tests through their jest config ' +
        '(jest -c jest.integration.config.js), whose global setup provides Kafka and the store',
    );
  }
  return { kafkaBrokers: brokers.split(','), mongoUrl, keys: devKeyFiles(keysDir) };
}

/** Where the development keys for test tokens live, shared by every test of a run. */
export const testKeysDir = join(repoRoot, '.shoal', 'keys');

/** Creates the run's development keys (once) and says where they are. */
export function testKeys(): Promise<DevKeyFiles> {
  return ensureDevKeys(testKeysDir);
}

/** Whether a Docker engine is plausibly reachable (checked before asking testcontainers). */
export function dockerLikelyAvailable(): boolean {
  return !!process.env.DOCKER_HOST || existsSync('/var/run/docker.sock');
}
