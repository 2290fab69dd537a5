import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ConsoleSession } from '../sessions/session';

const SEGMENT_ID = /^[A-Za-z0-9_.:@-]{1,200}$/;
const PASSED_HEADERS = ['content-type', 'content-disposition'];

/**
 * `GET /download/segments/{id}/members.csv?columns=…`: the exporter's CSV download, streamed
 * through with the signed-in user's token, so a browser link downloads it (the exporter checks
 * that the user may see the segment).
 */
export async function downloadMembersCsv(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  session: ConsoleSession,
  exporterBaseUrl: string,
): Promise<void> {
  const match = /^\/download\/segments\/([^/]+)\/members\.csv$/.exec(url.pathname);
  const id = match ? decodeURIComponent(match[1] as string) : '';
  if (!SEGMENT_ID.test(id)) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    return void res.end('not found\n');
  }
  const target = new URL(`segments/${encodeURIComponent(id)}/members.csv`, `${exporterBaseUrl}/`);
  const columns = url.searchParams.get('columns');
  if (columns) target.searchParams.set('columns', columns);
  const abort = new AbortController();
  req.once('close', () => abort.abort());
  const upstream = await fetch(target, {
    headers: { authorization: `Bearer ${session.token}` },
    signal: abort.signal,
  });
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  for (const name of PASSED_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) headers[name] = value;
  }
  res.writeHead(upstream.status, headers);
  if (!upstream.body) return void res.end();
  await pipeline(Readable.fromWeb(upstream.body as never), res);
}
