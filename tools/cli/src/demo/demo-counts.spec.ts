import { status } from '@grpc/grpc-js';
import { GrpcCallError } from '@shoal/platform';
import { firstCounts } from './demo-counts';

const failure = (code: status, details: string) => new GrpcCallError(code, details, '', []);

/** A count that fails with each of `failures` in turn, then succeeds. */
function countFailing(...failures: Error[]) {
  let calls = 0;
  return {
    count: async () => {
      calls += 1;
      const next = failures.shift();
      if (next) throw next;
    },
    calls: () => calls,
  };
}

describe('the demo’s first counts', () => {
  it('waits for membership to know a segment just made, saying so once', async () => {
    const lines: string[] = [];
    const { count, calls } = countFailing(
      failure(status.NOT_FOUND, 'segment seg_1 not found'),
      failure(status.UNAVAILABLE, 'read ECONNRESET'),
    );
    await firstCounts(count, { out: (l) => lines.push(l), signal: new AbortController().signal });
    expect(calls()).toBe(3);
    expect(lines).toEqual([
      'waiting for membership to take in the segments (NOT_FOUND: segment seg_1 not found)',
    ]);
  });

  it('fails at once on a refusal that waiting cannot change', async () => {
    const { count, calls } = countFailing(failure(status.PERMISSION_DENIED, 'not yours'));
    await expect(
      firstCounts(count, { out: () => undefined, signal: new AbortController().signal }),
    ).rejects.toThrow('PERMISSION_DENIED: not yours');
    expect(calls()).toBe(1);
  });

  it('gives up once its time is over, with the last failure', async () => {
    const { count } = countFailing(
      ...Array.from({ length: 10 }, () => failure(status.NOT_FOUND, 'segment seg_1 not found')),
    );
    await expect(
      firstCounts(count, {
        out: () => undefined,
        signal: new AbortController().signal,
        timeoutMs: 0,
      }),
    ).rejects.toThrow('NOT_FOUND: segment seg_1 not found');
  });
});
