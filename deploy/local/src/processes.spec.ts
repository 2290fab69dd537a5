import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isOurProcess, readPidFile, tailOf, withLock } from './processes';

describe('processes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-processes-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('readPidFile', () => {
    it('reads a pid and ignores a missing or garbled file', () => {
      const file = path.join(dir, 'x.pid');
      expect(readPidFile(file)).toBeUndefined();
      fs.writeFileSync(file, '1234\n');
      expect(readPidFile(file)).toBe(1234);
      fs.writeFileSync(file, 'not a pid');
      expect(readPidFile(file)).toBeUndefined();
    });
  });

  describe('isOurProcess', () => {
    it('recognises a live process by what its command line contains', () => {
      expect(isOurProcess(process.pid, [process.argv[1]])).toBe(true);
    });

    it('does not take a process with another command line for ours', () => {
      expect(isOurProcess(process.pid, ['kafka.Kafka'])).toBe(false);
    });

    it('treats a pid nobody has as gone', () => {
      expect(isOurProcess(2 ** 22 + 1, [])).toBe(false);
    });
  });

  describe('tailOf', () => {
    it('returns the last lines of a file, nothing for a missing one', () => {
      const file = path.join(dir, 'a.log');
      fs.writeFileSync(file, 'one\ntwo\nthree\n');
      expect(tailOf(file, 2)).toEqual(['two', 'three']);
      expect(tailOf(file, 10)).toEqual(['one', 'two', 'three']);
      expect(tailOf(path.join(dir, 'missing.log'), 5)).toEqual([]);
    });

    it('reads only the end of a large log and drops the line cut in half', () => {
      const file = path.join(dir, 'big.log');
      const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'x'.repeat(20)}`);
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      const tail = tailOf(file, 100_000);
      expect(tail.length).toBeLessThan(lines.length);
      expect(tail).toEqual(lines.slice(-tail.length));
    });
  });

  describe('withLock', () => {
    it('runs actions on the same lock one after the other', async () => {
      const lock = path.join(dir, 'run', 'up.lock');
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

    it('takes over a lock whose owner process is gone', async () => {
      const lock = path.join(dir, 'up.lock');
      fs.writeFileSync(lock, `${2 ** 22 + 1}\n`);
      await expect(withLock(lock, {}, async () => 'done')).resolves.toBe('done');
    });

    it('releases the lock when the action fails', async () => {
      const lock = path.join(dir, 'up.lock');
      await expect(withLock(lock, {}, () => Promise.reject(new Error('boom')))).rejects.toThrow(
        'boom',
      );
      expect(fs.existsSync(lock)).toBe(false);
    });

    it('stops waiting for a held lock when aborted', async () => {
      const lock = path.join(dir, 'up.lock');
      fs.writeFileSync(lock, `${process.pid}\n`);
      const waits: number[] = [];
      const aborted = withLock(
        lock,
        { signal: AbortSignal.timeout(300), onWait: (pid) => waits.push(pid) },
        async () => 'never',
      );
      await expect(aborted).rejects.toThrow();
      expect(waits).toEqual([process.pid]);
    });
  });
});
