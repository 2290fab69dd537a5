import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isOurProcess, readPidFile, tailOf } from './processes';

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
});
