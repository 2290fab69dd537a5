import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CONFIG, DomainError, ErrorKind, LOGGER, TokenVerifier } from '@shoal/platform';
import type { Logger } from 'pino';
import type { ExporterConfig } from '../service';
import { columnsFromQuery, downloadSegmentId, httpStatusOf, requestUrl } from './csv-download';
import { CsvExportService } from './csv-export.service';

/**
 * GET /segments/{id}/members.csv for people with a browser, on the exporter's download port:
 * the same bearer token as gRPC (Authorization header), the same visibility, the same file.
 * Refusals come before the first byte with a status and a one-line reason; a failure once
 * bytes were sent aborts the response, so a truncated file is never mistaken for a whole one.
 */
@Injectable()
export class CsvDownloadServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server?: Server;
  port = 0;

  constructor(
    private readonly exports: CsvExportService,
    private readonly verifier: TokenVerifier,
    @Inject(CONFIG) private readonly config: ExporterConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => void this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.EXPORTER_DOWNLOAD_PORT, this.config.EXPORTER_DOWNLOAD_HOST, () =>
        resolve(),
      );
    });
    this.port = (server.address() as AddressInfo).port;
    this.logger.info({ port: this.port }, 'CSV downloads listening (/segments/{id}/members.csv)');
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url);
    const segmentId = url && downloadSegmentId(url.pathname);
    if (url === undefined || segmentId === undefined) return refuse(res, 404, 'not found');
    if (req.method !== 'GET') return refuse(res, 405, 'method not allowed');
    const aborted = new AbortController();
    res.once('close', () => aborted.abort());
    let started = false;
    try {
      const principal = await this.verifier.verifyAuthorization(req.headers.authorization);
      const chunks = await this.exports.open({
        segmentId,
        columns: columnsFromQuery(url.searchParams),
        principal,
        signal: aborted.signal,
      });
      for await (const chunk of chunks) {
        if (!started) {
          started = true;
          res.writeHead(200, {
            'content-type': 'text/csv; charset=utf-8; header=present',
            'content-disposition': `attachment; filename="${segmentId.replace(/[^\w.-]/g, '_')}-members.csv"`,
            'cache-control': 'no-store',
          });
        }
        if (!res.write(chunk.text)) await once(res, 'drain', { signal: aborted.signal });
      }
      res.end();
    } catch (error) {
      if (aborted.signal.aborted) return;
      if (started) {
        this.logger.warn({ err: error, segmentId }, 'CSV download failed midway');
        res.destroy(error instanceof Error ? error : undefined);
        return;
      }
      if (error instanceof DomainError) {
        if (error.kind === ErrorKind.Unauthenticated) res.setHeader('www-authenticate', 'Bearer');
        return refuse(res, httpStatusOf(error.kind), `${error.reason}: ${error.message}`);
      }
      this.logger.error({ err: error, segmentId }, 'CSV download failed');
      refuse(res, 500, 'internal error');
    }
  }
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(`${message.slice(0, 512)}\n`);
}
