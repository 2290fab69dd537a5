import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { WebhookDestinationSchema } from '@shoal/contracts';
import { type DeliveryBatch, DeliveryFailure } from './destination-kind';
import { WebhookDestinationKind } from './webhook.destination';
import { WebhookAddressPolicy, allowListOf } from './webhook-address';

describe('WebhookDestinationKind at send time', () => {
  let server: Server;
  let port = 0;
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      paths.push(request.url ?? '');
      request.resume();
      if (request.url === '/moved')
        response.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
      else response.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => paths.splice(0));

  // "hooks.test" resolves to loopback, as a name re-pointed after it was saved would
  const kind = (allowed: string[]) =>
    new WebhookDestinationKind(
      { now: () => new Date() },
      new WebhookAddressPolicy(allowListOf(allowed), async () => [
        { address: '127.0.0.1', family: 4 },
      ]),
    );
  const config = (path: string) =>
    create(WebhookDestinationSchema, {
      url: `http://hooks.test:${port}${path}`,
      signingSecret: 'a-signing-secret-of-some-length',
      timeoutMs: 5_000,
    });
  const batch: DeliveryBatch = {
    destinationId: 'dst_1',
    segmentId: 'seg_1',
    runId: 'run_1',
    full: false,
    records: [],
  };
  const failureOf = (promise: Promise<void>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error as DeliveryFailure,
    );

  it('refuses for good a host that resolves to a refused address, sending nothing', async () => {
    const failure = await failureOf(
      kind([]).deliver(config('/hook'), batch, new AbortController().signal),
    );
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect(failure?.message).toContain('127.0.0.1');
    expect(failure?.options.permanent).toBe(true);
    expect(paths).toEqual([]);
  });

  it('delivers to an address the allow-list covers', async () => {
    await kind(['127.0.0.1/32']).deliver(config('/hook'), batch, new AbortController().signal);
    expect(paths).toEqual(['/hook']);
  });

  it('does not follow a redirect, and does not retry it', async () => {
    const failure = await failureOf(
      kind(['127.0.0.1/32']).deliver(config('/moved'), batch, new AbortController().signal),
    );
    expect(failure?.message).toBe('HTTP 302');
    expect(failure?.options.permanent).toBe(true);
    expect(paths).toEqual(['/moved']);
  });
});
