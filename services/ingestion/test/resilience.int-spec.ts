import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileService, upstreamEventsTopic } from '@shoal/contracts';
import {
  LogCollector,
  type ManagedProcess,
  TestScope,
  eventually,
  freePort,
  httpGet,
  startKafka,
  startMongo,
} from '@shoal/testing';
import { ingestionService } from '../src/service';
import { type Readiness, expectIngestedAfterRecovery, readiness } from './support/recovery';

const dependency = (r: Readiness, name: string) => r.dependencies.find((d) => d.name === name);

describe('ingestion when its infrastructure goes away and comes back', () => {
  const scope = new TestScope();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-resilience-'));
  const processes: ManagedProcess[] = [];
  afterAll(async () => {
    await scope.close();
    for (const p of processes) await p.kill('SIGKILL').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports not-ready while the store is down (kill -9), names the stalled partition, and recovers when it is back', async () => {
    const port = await freePort();
    const store = { port, dataFile: join(dir, 'store.mv'), logFile: join(dir, 'store.log') };
    const first = await startMongo(store);
    processes.push(first);
    const ingestion = await scope.start(ingestionService, {
      MONGO_URL: first.endpoint,
      KAFKA_PARTITIONS: '1',
      KAFKA_CONSUMER_STALLED_AFTER_MS: '2000',
    });
    await eventually(async () => expect((await readiness(ingestion)).status).toBe(200));
    const topic = scope.topicName(upstreamEventsTopic);
    const stalledGauge = async () =>
      (await httpGet(ingestion.httpPort, '/metrics')).body
        .split('\n')
        .find((line) => line.startsWith('shoal_kafka_partition_stalled{') && line.includes(topic));

    await first.kill('SIGKILL');
    const down = await eventually(async () => {
      const r = await readiness(ingestion);
      expect(r.status).toBe(503);
      return r.body;
    });
    expect(dependency(down, 'mongodb')?.ready).toBe(false);
    expect((await httpGet(ingestion.httpPort, '/healthz')).status).toBe(200);

    // a record arriving meanwhile cannot be stored: its partition stalls, visibly
    await scope.produce(upstreamEventsTopic, [
      {
        key: 'u-waiting',
        value: JSON.stringify({
          type: 'identify',
          messageId: 'r-0',
          userId: 'u-waiting',
          traits: { waited: true },
        }),
      },
    ]);
    await eventually(async () => {
      const consumer = dependency((await readiness(ingestion)).body, 'consumer:ingestion');
      expect(consumer?.ready).toBe(false);
      expect(consumer?.detail).toContain(`${topic} partition 0 has made no progress`);
      expect(consumer?.detail).toMatch(/Mongo\w*Error: connect ECONNREFUSED/);
    }, 60_000);
    expect(await stalledGauge()).toMatch(/ 1$/);

    processes.push(await startMongo(store));
    await eventually(async () => expect((await readiness(ingestion)).status).toBe(200), 60_000);
    expect(await stalledGauge()).toMatch(/ 0$/);

    // and it does its work again
    await scope.produce(upstreamEventsTopic, [
      {
        key: 'u-store',
        value: JSON.stringify({
          type: 'identify',
          messageId: 'r-1',
          userId: 'u-store',
          traits: { back: true },
        }),
      },
    ]);
    const profiles = scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'service:membership', service: 'membership' }),
    );
    const { profile } = await eventually(
      () => profiles.getProfile({ profileId: 'user:u-store' }),
      60_000,
    );
    expect(profile?.traits).toEqual({ back: true });
    const waited = await profiles.getProfile({ profileId: 'user:u-waiting' });
    expect(waited.profile?.traits).toEqual({ waited: true });
  });

  it('reports not-ready while Kafka is down (kill -9) and resumes consuming when it is back', async () => {
    const ports = { port: await freePort(), controllerPort: await freePort() };
    const broker = { ...ports, dataDir: join(dir, 'kafka'), logFile: join(dir, 'kafka.log') };
    const first = await startKafka(broker);
    processes.push(first);
    const ingestion = await scope.start(ingestionService, { KAFKA_BROKERS: first.endpoint });
    await eventually(async () => expect((await readiness(ingestion)).status).toBe(200), 60_000);

    await first.kill('SIGKILL');
    const down = await eventually(async () => {
      const r = await readiness(ingestion);
      expect(r.status).toBe(503);
      return r.body;
    }, 60_000);
    expect(dependency(down, 'kafka')?.ready).toBe(false);

    processes.push(await startKafka(broker));
    await eventually(async () => expect((await readiness(ingestion)).status).toBe(200), 120_000);

    await expectIngestedAfterRecovery(scope, ingestion, first.endpoint, {
      userId: 'u-kafka',
      messageId: 'r-2',
    });
  }, 300_000);
});

describe('secrets in configuration', () => {
  const scope = new TestScope();
  afterAll(() => scope.close());

  it('never appear in a log line, even at debug level', async () => {
    const logs = new LogCollector();
    const saslPassword = 'sasl-Secret-7f3e9a';
    const service = await scope.start(
      ingestionService,
      { LOG_LEVEL: 'debug', KAFKA_SASL_PASSWORD: saslPassword },
      { logs },
    );
    const signingKeyD = JSON.parse(
      (await import('node:fs')).readFileSync(
        service.context.config.SERVICE_TOKEN_KEY_FILE as string,
        'utf8',
      ),
    ).d as string;
    await scope.produce(upstreamEventsTopic, [{ key: 'k', value: `{"broken": "${saslPassword}"` }]);
    await eventually(() => expect(logs.text).toContain('record dead-lettered'));
    await scope.close();

    expect(logs.lines.length).toBeGreaterThan(5);
    expect(logs.text).toContain('KAFKA_SASL_PASSWORD');
    expect(logs.text).not.toContain(saslPassword);
    expect(logs.text).not.toContain(signingKeyD);
  });
});
