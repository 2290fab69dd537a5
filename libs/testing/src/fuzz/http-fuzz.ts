import { connect } from 'node:net';
import fc from 'fast-check';
import type { FuzzCaller } from './grpc-fuzz';
import { fuzzParameters } from './grpc-fuzz';

/** A running HTTP endpoint to throw arbitrary requests at. */
export interface HttpFuzzTarget {
  readonly port: number;
  /** Who calls: each request carries one of their tokens as a bearer (none when absent). */
  readonly callers: readonly FuzzCaller[];
  /** Request targets (path and query) the endpoint serves, and near them; mixed with arbitrary ones. */
  readonly targets: fc.Arbitrary<string>;
  /** How long an answer may take, to its last byte, before it counts as a hang; 5 s by default. */
  readonly deadlineMs?: number;
  /** Requests; FUZZ_RUNS, else 100. */
  readonly runs?: number;
}

/** How many requests of a run got each HTTP status ("400", "404", …; "none" for no status line). */
export type HttpFuzzOutcomes = Record<string, number>;

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'get', 'BREW'];

/**
 * Characters that have broken request handling before: URL syntax a path should not contain
 * (brackets and at signs make "//[" a URL with a bad host), percent escapes, dots, NUL.
 */
const ODD_PIECES = [
  '//',
  '/',
  '[',
  ']',
  '@',
  ':',
  '%',
  '%zz',
  '%00',
  '%2F',
  '..',
  '?',
  '#',
  '\u0000',
];

/**
 * Sends arbitrary HTTP/1.1 requests, written on a raw socket so that any request line goes out
 * (a client library would refuse most of them), and fails on the first one answered with a 5xx
 * other than 503 (a peer unavailable), or not answered completely before the deadline.
 */
export async function fuzzHttp(target: HttpFuzzTarget): Promise<HttpFuzzOutcomes> {
  const outcomes: HttpFuzzOutcomes = {};
  const caller = fc.oneof(
    ...target.callers.map((c) => ({ weight: c.weight ?? 1, arbitrary: fc.constant(c) })),
  );
  const odd = fc
    .array(fc.oneof(fc.constantFrom(...ODD_PIECES), fc.string({ maxLength: 8 })), {
      maxLength: 8,
    })
    .map((pieces) => pieces.join(''));
  const requestTarget = fc.oneof(
    { weight: 3, arbitrary: target.targets },
    // origin-form and not: "/…", "//…" (a scheme-relative URL to a naive parser), "…" (none)
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('/', '//', ''), odd).map(([start, path]) => start + path),
    },
    { weight: 1, arbitrary: fc.tuple(target.targets, odd).map(([known, tail]) => known + tail) },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(fc.constantFrom(...METHODS), requestTarget, caller),
      async ([method, path, who]) => {
        const status = await send(target.port, method, path, who.token, target.deadlineMs ?? 5_000);
        outcomes[status] = (outcomes[status] ?? 0) + 1;
        if (status === 'hang' || (status.startsWith('5') && status !== '503'))
          throw new Error(`${method} ${JSON.stringify(path)} as ${who.name} answered ${status}`);
      },
    ),
    fuzzParameters(target.runs),
  );
  return outcomes;
}

/** One request; its status code, "none" when the server closed without one, "hang" when late. */
function send(
  port: number,
  method: string,
  path: string,
  token: string | undefined,
  deadlineMs: number,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('hang');
    }, deadlineMs);
    socket.on('data', (part: Buffer) => received.push(part));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const head = Buffer.concat(received).subarray(0, 64).toString('latin1');
      resolve(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 'none');
    });
    const lines = [
      `${method} ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: close',
      ...(token === undefined ? [] : [`Authorization: Bearer ${token}`]),
    ];
    socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'));
  });
}
