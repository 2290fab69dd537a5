import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The built web app: files under `root` by path; any other path without an extension is a
 * route of the app, answered with index.html. Hashed assets are cached for good, the page never.
 */
export class StaticFiles {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get indexFile(): string {
    return join(this.root, 'index.html');
  }

  async serve(pathname: string, res: ServerResponse, head: boolean): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return notFound(res);
    }
    const file = resolve(this.root, `.${decoded}`);
    if (file !== this.root && !file.startsWith(this.root + sep)) return notFound(res);
    const found = await stat(file).catch(() => undefined);
    if (found?.isFile()) return send(res, file, found.size, head);
    if (extname(decoded) !== '') return notFound(res);
    const index = await stat(this.indexFile).catch(() => undefined);
    if (!index?.isFile()) return notFound(res);
    return send(res, this.indexFile, index.size, head);
  }
}

function send(res: ServerResponse, file: string, size: number, head: boolean): void {
  const immutable = file.includes(`${sep}assets${sep}`);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (head) return void res.end();
  createReadStream(file).pipe(res);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
}
