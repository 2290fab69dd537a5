import type { DescService } from '@bufbuild/protobuf';
import { type Client, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';

/**
 * A service's client as the web app makes it: Connect calls to the console's `/api`, with the
 * session cookie and the same-origin header on every call (`headers` add to or override them,
 * e.g. a foreign `origin`).
 */
export function sessionClient<S extends DescService>(
  service: S,
  {
    base,
    session,
    headers = {},
  }: { base: string; session: string; headers?: Record<string, string> },
): Client<S> {
  return createClient(
    service,
    createConnectTransport({
      baseUrl: `${base}/api`,
      httpVersion: '1.1',
      interceptors: [
        (next) => async (request) => {
          request.header.set('cookie', session);
          for (const [name, value] of Object.entries({ 'x-shoal-console': '1', ...headers }))
            request.header.set(name, value);
          return next(request);
        },
      ],
    }),
  );
}
