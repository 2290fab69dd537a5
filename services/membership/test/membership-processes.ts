import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LaunchedProcess,
  type TestScope,
  freePort,
  startServiceProcess,
} from '@shoal/testing';

/**
 * The built membership service as processes on a scope's broker and store, for the tests that
 * kill and restart it. Every process writes to one log file; `close()` kills what still runs and
 * removes the logs.
 */
export class MembershipProcesses {
  /** Where every process started here logs. */
  readonly logFile: string;
  private readonly folder: string;
  private readonly launched: LaunchedProcess[] = [];

  constructor(
    private readonly scope: TestScope,
    name: string,
  ) {
    this.folder = mkdtempSync(join(tmpdir(), `shoal-membership-${name}-`));
    this.logFile = join(this.folder, 'membership.log');
  }

  /** Starts one on free ports with these settings on top of the scope's; resolves once ready. */
  async start(settings: Record<string, string>): Promise<LaunchedProcess> {
    const launched = await startServiceProcess({
      name: 'membership',
      env: this.scope.env('membership', { LOG_LEVEL: 'info', ...settings }),
      grpcPort: await freePort(),
      httpPort: await freePort(),
      logFile: this.logFile,
    });
    this.launched.push(launched);
    return launched;
  }

  async close(): Promise<void> {
    for (const p of this.launched) if (!p.hasExited()) await p.kill('SIGKILL');
    rmSync(this.folder, { recursive: true, force: true });
  }
}
