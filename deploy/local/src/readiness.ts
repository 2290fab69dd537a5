import { retry } from '@shoal/platform';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { LocalInfraError, LocalInfraErrorCode, errorMessage } from './errors';

const RETRY_DELAY_MS = 250;
const MAX_ATTEMPT_MS = 5_000;
const PROBE_GROUP = 'shoal-local-infra-readiness-probe';

export interface WaitOptions {
  signal?: AbortSignal;
}

/**
 * Ready means the broker answers a metadata request, a group coordinator lookup and a producer id
 * request: an open port is not enough, for the first seconds consumers and idempotent producers
 * get "coordinator is loading" (the broker fetches its first block of producer ids lazily).
 */
export function waitForKafka(
  brokers: string[],
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<void> {
  return retryUntilReady(`Kafka at ${brokers.join(',')}`, timeoutMs, options, (attemptMs) =>
    probeKafka(brokers, attemptMs),
  );
}

export function waitForMongo(
  url: string,
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<void> {
  return retryUntilReady(`the store at ${url}`, timeoutMs, options, (attemptMs) =>
    probeMongo(url, attemptMs),
  );
}

/** One attempt each; kafkajs stays silent, its retriable errors are expected while starting. */
export async function probeKafka(brokers: string[], timeoutMs: number): Promise<void> {
  const kafka = new Kafka({
    clientId: 'shoal-local-infra',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.describeCluster();
    // FindCoordinator: also creates __consumer_offsets on a fresh broker
    await admin.describeGroups([PROBE_GROUP]);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 1 }, // kafkajs refuses an idempotent producer without retries
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await producer.connect(); // InitProducerId
  } finally {
    await producer.disconnect();
  }
}

export async function probeMongo(url: string, timeoutMs: number): Promise<void> {
  const client = new MongoClient(url, {
    directConnection: true,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
  });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

/**
 * Repeats `attempt` (given how long it may take) until it succeeds; a NotReady error with the
 * last failure when the time is up, the abort reason when `signal` aborts.
 */
export async function retryUntilReady(
  what: string,
  timeoutMs: number,
  { signal }: WaitOptions,
  attempt: (attemptMs: number) => Promise<void>,
): Promise<void> {
  try {
    await retry(
      ({ remainingMs }) => attempt(Math.max(500, Math.min(MAX_ATTEMPT_MS, remainingMs))),
      {
        timeoutMs,
        delayMs: RETRY_DELAY_MS,
        ...(signal ? { signal } : {}),
      },
    );
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new LocalInfraError(
      LocalInfraErrorCode.NotReady,
      `${what} was not ready within ${Math.round(timeoutMs / 1000)} s: ${errorMessage(error)}`,
    );
  }
}
