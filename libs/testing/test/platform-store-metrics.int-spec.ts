// The platform's real-infrastructure tests live beside the harness they need (the platform
// itself cannot depend on @shoal/testing without a cycle).
import { Metrics, createMongoClient } from '@shoal/platform';
import type { MongoClient } from 'mongodb';
import { TestScope } from '../src';

describe('store command metrics', () => {
  const scope = new TestScope();
  const metrics = new Metrics('store-metrics-test');
  let client: MongoClient;

  beforeAll(async () => {
    client = await createMongoClient(
      scope.env('store-metrics')['MONGO_URL'] ?? '',
      metrics,
    ).connect();
  });
  afterAll(async () => {
    await client.db(`t${scope.id}_store_metrics`).dropDatabase();
    await client.close();
    await scope.close();
  });

  const samples = async (command: string, outcome: string) => {
    const metric = await metrics.registry
      .getSingleMetric('shoal_store_command_duration_seconds')
      ?.get();
    return (
      metric?.values.find(
        (v) =>
          'metricName' in v &&
          v.metricName === 'shoal_store_command_duration_seconds_count' &&
          v.labels['command'] === command &&
          v.labels['outcome'] === outcome,
      )?.value ?? 0
    );
  };

  it('counts and times every command by name, and the refused ones apart', async () => {
    const db = client.db(`t${scope.id}_store_metrics`);
    const docs = db.collection<{ _id: string }>('docs');
    await docs.insertOne({ _id: 'a' });
    await docs.findOne({ _id: 'a' });
    await docs.findOne({ _id: 'b' });
    expect(await samples('insert', 'ok')).toBe(1);
    expect(await samples('find', 'ok')).toBe(2);
    // a duplicate key is a write error inside an answered command: the command went through
    await expect(docs.insertOne({ _id: 'a' })).rejects.toThrow();
    expect(await samples('insert', 'ok')).toBe(2);
    await expect(db.command({ noSuchCommand: 1 })).rejects.toThrow();
    expect(await samples('noSuchCommand', 'failed')).toBe(1);
  });
});
