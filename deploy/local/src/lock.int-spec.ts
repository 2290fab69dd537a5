import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lockOptions, withLock } from './lock';

const STALE_MS = 2_000;

/** Another process holding the lock as `withLock` takes it, until it is killed. */
async function holderProcess(lock: string) {
  const script = `
    const lockfile = require(${JSON.stringify(require.resolve('proper-lockfile'))});
    lockfile.lock(${JSON.stringify(lock)}, ${JSON.stringify(lockOptions(lock, STALE_MS))})
      .then(() => console.log('locked'), (error) => { console.error(error); process.exit(1); });
    setInterval(() => undefined, 60_000);
  `;
  const holder = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(holder.stdout, 'data')) as [Buffer];
  expect(line.toString().trim()).toBe('locked');
  return holder;
}

describe('withLock across processes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('waits while the holder lives, and takes the lock over once a crashed holder lets it go stale', async () => {
    const lock = path.join(dir, 'infra.lock');
    const holder = await holderProcess(lock);
    const exited = once(holder, 'exit');
    let waited = false;
    const taken = withLock(
      lock,
      {
        staleMs: STALE_MS,
        onWait: () => {
          waited = true;
          holder.kill('SIGKILL');
        },
      },
      async () => 'ours',
    );
    await expect(taken).resolves.toBe('ours');
    expect(waited).toBe(true);
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(fs.existsSync(lock)).toBe(false);
  });
});
