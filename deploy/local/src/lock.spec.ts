import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalInfraErrorCode } from './errors';
import { withLock } from './lock';

describe('withLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs actions on the same lock one after the other, and leaves no lock behind', async () => {
    const lock = path.join(dir, 'run', 'infra.lock');
    const events: string[] = [];
    const action = (name: string) => async () => {
      events.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      events.push(`${name} end`);
    };
    await Promise.all([withLock(lock, {}, action('a')), withLock(lock, {}, action('b'))]);
    expect(events).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('releases the lock when the action fails', async () => {
    const lock = path.join(dir, 'infra.lock');
    await expect(withLock(lock, {}, () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(fs.existsSync(lock)).toBe(false);
    await expect(withLock(lock, {}, async () => 'next')).resolves.toBe('next');
  });

  it('takes over a lock its holder stopped refreshing, as a crashed holder leaves it', async () => {
    const lock = path.join(dir, 'infra.lock');
    fs.mkdirSync(lock);
    const lastRefreshed = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, lastRefreshed, lastRefreshed);
    const waits: number[] = [];
    await expect(
      withLock(lock, { onWait: () => waits.push(1) }, async () => 'taken over'),
    ).resolves.toBe('taken over');
    expect(waits).toEqual([]);
  });

  it('waits for a lock that is held and refreshed, and stops waiting when aborted', async () => {
    const lock = path.join(dir, 'infra.lock');
    const stop = new AbortController();
    let waits = 0;
    let ran = false;
    const held = withLock(lock, {}, async () => {
      const waiting = withLock(
        lock,
        {
          signal: stop.signal,
          onWait: () => {
            waits += 1;
            stop.abort(new Error('interrupted'));
          },
        },
        async () => {
          ran = true;
        },
      );
      await expect(waiting).rejects.toThrow('interrupted');
    });
    await held;
    expect(waits).toBe(1);
    expect(ran).toBe(false);
  });

  it("aborts the action's signal when the lock is lost while held", async () => {
    const lock = path.join(dir, 'infra.lock');
    const reason = await withLock(lock, { staleMs: 2_000 }, async (signal) => {
      fs.rmSync(lock, { recursive: true });
      await once(signal, 'abort');
      return signal.reason as unknown;
    });
    expect(reason).toMatchObject({ code: LocalInfraErrorCode.LockLost });
  });
});
