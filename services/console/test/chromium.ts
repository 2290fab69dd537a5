import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * Debian's chromium, which the browser tests drive with playwright-core (nothing downloads a
 * browser build). When it is missing and we are root, it is installed, saying so.
 */
export function debianChromium(): string {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error(
      "Debian's chromium is missing and only root can install it: run 'apt-get install -y chromium'",
    );
  process.stderr.write(
    "browser tests: Debian's chromium is missing; installing it (apt-get install -y chromium)\n",
  );
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
  // fonts-liberation is only recommended, but without any font the pages render as boxes
  execFileSync(
    'apt-get',
    ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-liberation'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
  const installed = CANDIDATES.find((path) => existsSync(path));
  if (!installed) throw new Error('apt-get installed chromium, but no chromium binary was found');
  return installed;
}
