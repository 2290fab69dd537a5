import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  readonly at: number;
}

/** What a path answers: a status and headers; the last answer repeats. */
export interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A local HTTP receiver on 127.0.0.1, answering each path from its script. */
export class WebhookReceiver {
  private readonly server: Server;
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({
          path,
          headers: req.headers,
          body: Buffer.concat(parts).toString('utf8'),
          at: performance.now(),
        });
        const script = this.scripts.get(path) ?? [];
        const answer = (script.length > 1 ? script.shift() : script[0]) ?? { status: 200 };
        res.writeHead(answer.status, answer.headers ?? {});
        res.end();
      });
    });
  }

  /** Answers for a path, in order; the last one is repeated. */
  script(path: string, answers: Answer[]): string {
    this.scripts.set(path, [...answers]);
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
