import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toJsonString } from '@bufbuild/protobuf';
import { ServiceHealthSchema } from '@shoal/contracts';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import type { Readiness } from './readiness';

/**
 * The operations endpoint every service exposes: /healthz (the process is alive),
 * /readyz (it can do its work: dependencies reachable), /metrics (Prometheus).
 */
export class OpsServer {
  private server?: Server;

  constructor(
    private readonly readiness: Readiness,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  async start(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const reply = (status: number, type: string, body: string) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      if (req.method !== 'GET') return reply(405, 'text/plain', 'method not allowed\n');
      if (path === '/healthz') {
        const broken = this.readiness.broken;
        return broken
          ? reply(
              503,
              'application/json',
              JSON.stringify({ status: 'broken', reason: broken }) + '\n',
            )
          : reply(200, 'application/json', '{"status":"ok"}\n');
      }
      if (path === '/readyz') {
        void this.readiness.evaluate().then(
          (health) =>
            reply(
              health.ready ? 200 : 503,
              'application/json',
              toJsonString(ServiceHealthSchema, health, { alwaysEmitImplicit: true }) + '\n',
            ),
          (error: unknown) => reply(500, 'text/plain', `${String(error)}\n`),
        );
        return;
      }
      if (path === '/metrics') {
        void this.metrics.registry.metrics().then(
          (text) => reply(200, this.metrics.registry.contentType, text),
          (error: unknown) => reply(500, 'text/plain', `${String(error)}\n`),
        );
        return;
      }
      reply(404, 'text/plain', 'not found\n');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = (server.address() as AddressInfo).port;
    this.logger.info({ host, port: bound }, 'ops endpoint listening (/healthz, /readyz, /metrics)');
    return bound;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
