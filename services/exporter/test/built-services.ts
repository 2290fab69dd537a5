import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * Builds the workspaces whose services a test starts as processes (their dist/main.js and the
 * libraries they load), one test file at a time: jest runs files in parallel, and two builds
 * writing the same dist would race. Plain `npm run build` per workspace, so it also works where
 * the test itself runs under nx.
 */
export async function buildForProcesses(workspaces: readonly string[]): Promise<void> {
  const release = await lockfile.lock(tmpdir(), {
    lockfilePath: join(tmpdir(), 'shoal-exporter-test-build.lock'),
    retries: { retries: 600, minTimeout: 200, maxTimeout: 1_000 },
    stale: 120_000,
  });
  try {
    execFileSync('npm', ['run', 'build', ...workspaces.flatMap((w) => ['-w', w])], {
      stdio: 'ignore',
    });
  } finally {
    await release();
  }
}
