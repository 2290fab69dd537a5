import type { IncomingMessage } from 'node:http';

/** The header the web app sends with every state-changing request. */
export const CSRF_HEADER = 'x-shoal-console';

/**
 * Whether a request that acts with the session comes from the console's own page. The cookie
 * is SameSite=Strict already; on top of that the request must carry a custom header, which a
 * cross-origin page can only send after a CORS preflight the console never grants, and where
 * the browser says where it comes from (Origin, Sec-Fetch-Site) that must be this origin.
 */
export function isSameOriginRequest(req: IncomingMessage, tls: boolean): boolean {
  if (req.headers[CSRF_HEADER] !== '1') return false;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`;
    if (origin !== own) return false;
  }
  return true;
}
