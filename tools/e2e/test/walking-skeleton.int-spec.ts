import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { IdentityKind, ProfileService, upstreamEventsTopic } from '@shoal/contracts';
import { createGrpcClient } from '@shoal/platform';
import {
  type LaunchedProcess,
  SHOAL_SERVICES,
  type ShoalServiceName,
  TestScope,
  eventually,
  freePort,
  httpGet,
  startServiceProcess,
} from '@shoal/testing';

/**
 * The walking skeleton: the five services run as the processes `./shoal up` and the Docker
 * images run (their built main.js, configured by environment only), on real Kafka, real gRPC
 * and the real store.
 */
describe('the five services as processes', () => {
  const scope = new TestScope();
  const logs = mkdtempSync(join(tmpdir(), 'shoal-e2e-'));
  const running = new Map<
    ShoalServiceName,
    { process: LaunchedProcess; grpcPort: number; httpPort: number }
  >();

  beforeAll(async () => {
    for (const name of SHOAL_SERVICES) {
      // each other, never the default ports, which a `./shoal up` on this machine may hold; the
      // exporter starts last, so its peers' ports are known (and picked just before each start)
      const grpcOf = (peer: ShoalServiceName) => `127.0.0.1:${running.get(peer)?.grpcPort}`;
      const wiring: Record<string, string> =
        name === 'exporter'
          ? {
              EXPORTER_MEMBERSHIP_ADDRESS: grpcOf('membership'),
              EXPORTER_INGESTION_ADDRESS: grpcOf('ingestion'),
              EXPORTER_SEGMENTS_ADDRESS: grpcOf('segments'),
              EXPORTER_DOWNLOAD_PORT: '0',
            }
          : {};
      const env = scope.env(name, { LOG_LEVEL: 'info', ...wiring });
      const grpcPort = await freePort();
      const httpPort = await freePort();
      const process = await startServiceProcess({
        name,
        env,
        grpcPort,
        httpPort,
        logFile: join(logs, `${name}.log`),
      });
      running.set(name, { process, grpcPort, httpPort });
    }
  }, 300_000);

  afterAll(async () => {
    for (const { process } of running.values()) await process.kill('SIGKILL');
    await scope.close();
    rmSync(logs, { recursive: true, force: true });
  });

  it('all report ready on /readyz and SERVING on the gRPC health service', async () => {
    for (const [name, { httpPort, grpcPort }] of running) {
      const ready = await httpGet(httpPort, '/readyz');
      expect({ name, status: ready.status }).toEqual({ name, status: 200 });
      const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
      const client = new Health(
        `127.0.0.1:${grpcPort}`,
        grpc.credentials.createInsecure(),
      ) as unknown as {
        check(
          r: { service: string },
          cb: (e: grpc.ServiceError | null, r: { status: string }) => void,
        ): void;
        close(): void;
      };
      const health = await new Promise<{ status: string }>((resolve, reject) =>
        client.check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r))),
      );
      client.close();
      expect({ name, status: health.status }).toEqual({ name, status: 'SERVING' });
    }
  });

  it('runs ingestion and membership with 64 MiB young-generation semi-spaces, the others with the default', () => {
    for (const [name, { process }] of running) {
      const args = readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').split('\0');
      expect({ name, large: args.includes('--max-semi-space-size=64') }).toEqual({
        name,
        large: name === 'ingestion' || name === 'membership',
      });
    }
  });

  it('carries a track event from the upstream topic into a profile another service reads over gRPC', async () => {
    await scope.produce(upstreamEventsTopic, [
      {
        key: 'e2e-user',
        value: JSON.stringify({
          type: 'track',
          messageId: 'e2e-1',
          userId: 'e2e-user',
          event: 'Order Completed',
          properties: { total: 840 },
          timestamp: '2026-11-20T09:00:00.000Z',
        }),
      },
    ]);
    // a service token, as the membership service presents when it calls ingestion
    const serviceToken = await scope.token({
      subject: 'service:membership',
      service: 'membership',
    });
    const ingestion = running.get('ingestion');
    const profiles = createGrpcClient(ProfileService, {
      address: `127.0.0.1:${ingestion?.grpcPort}`,
      token: () => serviceToken,
      deadlineMs: 5_000,
    });
    try {
      const { profile } = await eventually(() =>
        profiles.lookupProfile({ identity: { kind: IdentityKind.USER_ID, value: 'e2e-user' } }),
      );
      expect(profile?.id).toBe('user:e2e-user');
      expect(profile?.lastSeenAt?.seconds).toBe(
        BigInt(Date.parse('2026-11-20T09:00:00.000Z') / 1000),
      );
    } finally {
      profiles.close();
    }
  });

  it('each stops cleanly on SIGTERM, draining its work', async () => {
    for (const [name, { process }] of [...running].reverse()) {
      await process.kill('SIGTERM');
      expect({ name, exit: await process.exited }).toEqual({ name, exit: 'exit code 0' });
    }
  });
});
