import { MongoBulkWriteError, MongoClient, MongoServerError, type WriteError } from 'mongodb';
import { ConfigError } from '../config/config';
import type { Metrics } from '../metrics/metrics';

/**
 * A driver client tuned to fail fast when the store is away (so readiness reflects it) and
 * to reconnect on its own when it returns. A store that is away refuses or drops connections
 * at once; a busy one can take seconds to answer: the driver's monitor waits `connectTimeoutMS`
 * for its `hello`, and a monitor timeout interrupts every command in flight on the pool (a
 * CPU-starved embedded store lost minutes of checkpoint writes to a 5 s limit).
 */
export function createMongoClient(url: string, metrics?: Metrics): MongoClient {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 30_000,
    heartbeatFrequencyMS: 2_000,
    appName: 'shoal',
    monitorCommands: metrics !== undefined,
  });
  if (metrics) measureStoreCommands(client, metrics);
  return client;
}

/**
 * Every command the client sends, by name and outcome, with the time from sent to answered: how
 * busy and how slow the store is as this service sees it (the services' work waits on it).
 */
function measureStoreCommands(client: MongoClient, metrics: Metrics): void {
  const seconds = metrics.histogram(
    'shoal_store_command_duration_seconds',
    'store commands by name and outcome (ok, failed), from sent to answered',
    ['command', 'outcome'],
  );
  client.on('commandSucceeded', (event) =>
    seconds.observe({ command: event.commandName, outcome: 'ok' }, event.duration / 1000),
  );
  client.on('commandFailed', (event) =>
    seconds.observe({ command: event.commandName, outcome: 'failed' }, event.duration / 1000),
  );
}

export async function pingMongo(client: MongoClient): Promise<string> {
  await client.db('admin').command({ ping: 1 }, { timeoutMS: 1_500 });
  return 'ping ok';
}

/**
 * The store refused the credentials in MONGO_URL (wrong ones, or a store without authentication
 * given some): retrying cannot help, so start-up stops with the variable named.
 */
export function credentialRefusal(error: unknown): ConfigError | undefined {
  const refused =
    error instanceof MongoServerError &&
    (error.code === 18 || (error.code === 59 && /sasl|authenticate/i.test(error.message)));
  if (!refused) return undefined;
  return new ConfigError([
    { variable: 'MONGO_URL', message: `the store refused its credentials (${error.message})` },
  ]);
}

const DUPLICATE_KEY = 11000;

/**
 * A write refused for a duplicate key: an insert or upsert that met a document (or a unique
 * index entry) already there. For a bulk write, `duplicateKeyRefusals` tells which documents.
 */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * The write errors of a bulk write refused only for duplicate keys (the documents exist
 * already); undefined for any other failure — another write error, or a bulk error without write
 * errors (a lost connection), which says nothing about what was written.
 */
export function duplicateKeyRefusals(error: unknown): WriteError[] | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  const errors = [error.writeErrors].flat();
  return errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY) ? errors : undefined;
}
