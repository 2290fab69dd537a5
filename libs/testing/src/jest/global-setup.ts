import { LocalInfra } from '@shoal/local-infra';
import { ENV, dockerLikelyAvailable, testKeys, testKeysDir } from '../infrastructure';

/** What the teardown must stop: only what this run started. */
export interface StartedByRun {
  stop(): Promise<void>;
}

declare global {
  var __shoalStartedByRun: StartedByRun | undefined;
}

/**
 * Provides real Kafka and a real MongoDB-compatible store once per jest run, in this order:
 * endpoints from the environment (SHOAL_TEST_KAFKA_BROKERS + SHOAL_TEST_MONGO_URL), then
 * testcontainers when a Docker engine answers, else the local processes from deploy/local.
 * Workers inherit the endpoints through the environment.
 */
export default async function globalSetup(): Promise<void> {
  await testKeys();
  process.env[ENV.keysDir] = testKeysDir;
  if (process.env[ENV.kafkaBrokers] && process.env[ENV.mongoUrl]) return;

  if (dockerLikelyAvailable() && (await startContainers())) return;

  const infra = new LocalInfra({ log: (line) => process.stderr.write(`[infra] ${line}\n`) });
  const { endpoints, started } = await infra.up();
  process.env[ENV.kafkaBrokers] = endpoints.kafkaBrokers.join(',');
  process.env[ENV.mongoUrl] = endpoints.mongoUrl;
  if (started.length > 0 && !process.env.SHOAL_KEEP_INFRA) {
    globalThis.__shoalStartedByRun = { stop: () => infra.down(started) };
  }
}

async function startContainers(): Promise<boolean> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return false;
  }
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const [kafka, mongo] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new MongoDBContainer('mongo:7.0').start(),
  ]);
  process.env[ENV.kafkaBrokers] = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
  process.env[ENV.mongoUrl] = mongo.getConnectionString();
  globalThis.__shoalStartedByRun = {
    stop: async () => {
      await Promise.all([kafka.stop(), mongo.stop()]);
    },
  };
  return true;
}
