import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LaunchedProcess,
  SHOAL_SERVICES,
  type StartableServiceName,
  freePort,
  startServiceProcess,
} from '@shoal/local-infra';
import { testInfrastructure } from './infrastructure';
import type { TestScope } from './test-scope';

export interface ShoalStackOptions {
  /** Also the console, after the five services, with development sign-in. */
  readonly console?: boolean;
  /** Settings per service on top of the stack's (test timings and where the others listen). */
  readonly settings?: Partial<Record<StartableServiceName, Record<string, string>>>;
}

/**
 * The five built services (and the console) as processes on a scope's broker and store, each
 * told where the others listen, with the short intervals tests want; their logs in one folder.
 */
export class ShoalStack {
  /** Where each process logs, as `<service>.log`; tests may put their own files here too. */
  readonly logs = mkdtempSync(join(tmpdir(), 'shoal-stack-'));
  private readonly ports = new Map<StartableServiceName, number>();
  private readonly processes: LaunchedProcess[] = [];
  private downloadPort = 0;
  private consolePort = 0;

  constructor(private readonly scope: TestScope) {}

  /** Starts them in dependency order; resolves once every one answers ready. */
  async start(options: ShoalStackOptions = {}): Promise<void> {
    const names: StartableServiceName[] = [
      ...SHOAL_SERVICES,
      ...(options.console ? ['console' as const] : []),
    ];
    for (const name of names) {
      // ports are picked just before each start: picked early, the ephemeral ports of the
      // connections the first services open could take them meanwhile
      const settings = { ...(await this.wiring(name)), ...options.settings?.[name] };
      const grpcPort = await freePort();
      this.ports.set(name, grpcPort);
      this.processes.push(
        await startServiceProcess({
          name,
          env: this.scope.env(name, { LOG_LEVEL: 'info', ...settings }),
          grpcPort,
          httpPort: await freePort(),
          logFile: join(this.logs, `${name}.log`),
        }),
      );
    }
  }

  /** A started service's gRPC address. */
  address(name: StartableServiceName): string {
    const port = this.ports.get(name);
    if (port === undefined) throw new Error(`${name} was not started`);
    return `127.0.0.1:${port}`;
  }

  /** The exporter's CSV download server. */
  get downloadUrl(): string {
    return `http://127.0.0.1:${this.downloadPort}`;
  }

  /** The console's web app and Connect endpoint. */
  get consoleUrl(): string {
    return `http://127.0.0.1:${this.consolePort}`;
  }

  /** Kills every process (no clean stop needed: each test scope is thrown away) and the logs. */
  async close(): Promise<void> {
    for (const launched of this.processes.reverse()) await launched.kill('SIGKILL');
    rmSync(this.logs, { recursive: true, force: true });
  }

  private async wiring(name: StartableServiceName): Promise<Record<string, string>> {
    switch (name) {
      case 'ingestion':
        return { INGEST_CHECKPOINT_INTERVAL_MS: '200', PROFILE_READER_GROUPS: 'marketing' };
      case 'segments':
        return {};
      case 'membership':
        return { MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '200', MEMBERSHIP_STATUS_INTERVAL_MS: '1000' };
      case 'scheduler':
        return { SCHEDULER_TICK_MS: '200', SCHEDULER_SEGMENTS_ADDRESS: this.address('segments') };
      case 'exporter':
        this.downloadPort = await freePort();
        return {
          EXPORTER_MEMBERSHIP_ADDRESS: this.address('membership'),
          EXPORTER_INGESTION_ADDRESS: this.address('ingestion'),
          EXPORTER_SEGMENTS_ADDRESS: this.address('segments'),
          EXPORTER_DOWNLOAD_PORT: String(this.downloadPort),
          EXPORTER_SYNC_INTERVAL_MS: '200',
          // tests receive webhooks on loopback, which the exporter refuses by default
          EXPORTER_WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        };
      case 'console':
        this.consolePort = await freePort();
        return {
          CONSOLE_PORT: String(this.consolePort),
          CONSOLE_DEV_SIGN_IN: 'true',
          CONSOLE_DEV_SIGNING_KEY_FILE: testInfrastructure().keys.userSigningKeyFile,
          CONSOLE_INGESTION_ADDRESS: this.address('ingestion'),
          CONSOLE_SEGMENTS_ADDRESS: this.address('segments'),
          CONSOLE_MEMBERSHIP_ADDRESS: this.address('membership'),
          CONSOLE_SCHEDULER_ADDRESS: this.address('scheduler'),
          CONSOLE_EXPORTER_ADDRESS: this.address('exporter'),
          CONSOLE_EXPORTER_DOWNLOAD_URL: this.downloadUrl,
        };
    }
  }
}
