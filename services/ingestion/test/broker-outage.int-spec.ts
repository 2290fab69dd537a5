import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ManagedProcess,
  TestScope,
  eventually,
  freePort,
  httpGet,
  startKafka,
} from '@shoal/testing';
import { ingestionService } from '../src/service';
import { expectIngestedAfterRecovery, readiness } from './support/recovery';

/**
 * Longer than kafkajs's whole retry budget (8 retries, 300 ms doubling to 10 s: about 40 s of
 * waits, plus 3 s connection timeouts), so the consumer's own retries run out while it is down.
 */
const OUTAGE_MS = 75_000;

describe('ingestion through a broker outage longer than the consumer retry budget', () => {
  const scope = new TestScope();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-outage-'));
  const processes: ManagedProcess[] = [];
  afterAll(async () => {
    await scope.close();
    for (const p of processes) await p.kill('SIGKILL').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays alive, reports the consumer not ready, and consumes again once the broker is back', async () => {
    const ports = { port: await freePort(), controllerPort: await freePort() };
    const broker = { ...ports, dataDir: join(dir, 'kafka'), logFile: join(dir, 'kafka.log') };
    const first = await startKafka(broker);
    processes.push(first);
    const ingestion = await scope.start(ingestionService, {
      KAFKA_BROKERS: first.endpoint,
      KAFKA_PARTITIONS: '1',
    });
    await eventually(async () => expect((await readiness(ingestion)).status).toBe(200), 60_000);

    await first.kill('SIGTERM');
    const downSince = Date.now();
    const liveness: number[] = [];
    await eventually(
      async () => {
        liveness.push((await httpGet(ingestion.httpPort, '/healthz')).status);
        const consumer = (await readiness(ingestion)).body.dependencies.find(
          (d) => d.name === 'consumer:ingestion',
        );
        expect(consumer?.ready).toBe(false);
        expect(Date.now() - downSince).toBeGreaterThan(OUTAGE_MS);
      },
      OUTAGE_MS + 60_000,
      1_000,
    );
    expect(new Set(liveness)).toEqual(new Set([200]));

    processes.push(await startKafka(broker));
    await eventually(
      async () => {
        liveness.push((await httpGet(ingestion.httpPort, '/healthz')).status);
        expect((await readiness(ingestion)).status).toBe(200);
      },
      180_000,
      1_000,
    );
    expect(new Set(liveness)).toEqual(new Set([200]));

    await expectIngestedAfterRecovery(scope, ingestion, first.endpoint, {
      userId: 'u-after',
      messageId: 'o-1',
    });
  }, 600_000);
});
