import { MongoClient } from 'mongodb';

/**
 * A driver client tuned to fail fast when the store is away (so readiness reflects it) and
 * to reconnect on its own when it returns.
 */
export function createMongoClient(url: string): MongoClient {
  return new MongoClient(url, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    heartbeatFrequencyMS: 2_000,
    appName: 'shoal',
  });
}

export async function pingMongo(client: MongoClient): Promise<string> {
  await client.db('admin').command({ ping: 1 }, { timeoutMS: 1_500 });
  return 'ping ok';
}
