// Client-streaming calls through the platform's gRPC server and client, on a service described
// here (no Shoal contract needs to exist for the plumbing to be tested).
import { type DescService, create, createFileRegistry } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  type StringValue,
  file_google_protobuf_wrappers,
} from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  type CallContext,
  GrpcCallError,
  GrpcServer,
  type GrpcServiceHandlers,
  Metrics,
  SecretMask,
  ValidationError,
  createGrpcClient,
  createLogger,
  createTokenVerifier,
  loadConfig,
  serviceConfigSchema,
} from '@shoal/platform';
import { TestScope } from '../src';

const logger = createLogger({
  service: 'grpc-test',
  version: '0',
  level: 'silent',
  secrets: new SecretMask(),
});

/** `service Tally { rpc Count(stream google.protobuf.StringValue) returns (google.protobuf.Int32Value); }` */
const Tally: DescService = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'shoal/test/tally.proto',
    package: 'shoal.test',
    syntax: 'proto3',
    dependency: ['google/protobuf/wrappers.proto'],
    service: [
      {
        name: 'Tally',
        method: [
          {
            name: 'Count',
            inputType: '.google.protobuf.StringValue',
            outputType: '.google.protobuf.Int32Value',
            clientStreaming: true,
          },
        ],
      },
    ],
  }),
  (name) => (name === 'google/protobuf/wrappers.proto' ? file_google_protobuf_wrappers : undefined),
).getService('shoal.test.Tally') as DescService;

type Count = (
  requests: AsyncIterable<{ value: string }> | Iterable<{ value: string }>,
  options?: { deadlineMs?: number },
) => Promise<{ value: number }>;

describe('client-streaming gRPC calls', () => {
  const scope = new TestScope();
  let server: GrpcServer;
  let address: string;
  let token: string;
  /** What the handler read, per call. */
  const reads: string[][] = [];

  const handlers = {
    async count(requests: AsyncIterable<StringValue>, context: CallContext) {
      const read: string[] = [];
      reads.push(read);
      for await (const request of requests) {
        if (request.value === 'stop')
          throw new ValidationError([{ field: `[${read.length}]`, description: 'says stop' }]);
        read.push(request.value);
      }
      return { value: context.principal.subject === 'ann' ? read.length : -1 };
    },
  } as unknown as GrpcServiceHandlers<DescService>;

  beforeAll(async () => {
    const schema = serviceConfigSchema({ service: 'grpc-test', grpcPort: 0, httpPort: 0 }, {});
    const verifier = await createTokenVerifier(loadConfig(schema, scope.env('grpc-test')));
    server = new GrpcServer(
      { host: '127.0.0.1', port: 0, maxMessageBytes: 64 * 1024 },
      verifier,
      logger,
      new Metrics('grpc-test'),
    );
    server.register(Tally, handlers);
    address = `127.0.0.1:${await server.start()}`;
    server.setServing(true);
    token = await scope.token({ subject: 'ann' });
  });
  afterAll(async () => {
    await server.stop();
    await scope.close();
  });

  const clients: { close(): void }[] = [];
  afterAll(() => clients.forEach((c) => c.close()));
  const count = (bearer?: string): Count => {
    const client = createGrpcClient(Tally, {
      address,
      deadlineMs: 20_000,
      ...(bearer ? { token: () => bearer } : {}),
    });
    clients.push(client);
    return (client as unknown as { count: Count }).count;
  };
  const failureOf = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GrpcCallError);
    return error as GrpcCallError;
  };

  it('hands the handler every request in order, as it arrives, and answers once', async () => {
    const values = Array.from({ length: 5_000 }, (_, i) => `v${i}`);
    async function* slowly() {
      for (const value of values) {
        if (value === 'v2500') await new Promise((resolve) => setTimeout(resolve, 50));
        yield { value };
      }
    }
    const answer = await count(token)(slowly());
    expect(answer.value).toBe(5_000);
    expect(reads[reads.length - 1]).toEqual(values);
  });

  it('answers an empty stream', async () => {
    expect((await count(token)([])).value).toBe(0);
  });

  it('refuses a caller without a valid token before reading anything', async () => {
    const callsBefore = reads.length;
    const error = await failureOf(count()([{ value: 'a' }, { value: 'b' }]));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(reads).toHaveLength(callsBefore);
  });

  it('ends the call with the handler’s refusal while the client is still sending', async () => {
    let sent = 0;
    function* endless() {
      for (;;) {
        sent++;
        yield { value: sent === 3 ? 'stop' : `v${sent}` };
      }
    }
    const error = await failureOf(count(token)(endless()));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.violations).toEqual([{ field: '[2]', description: 'says stop' }]);
    // the client stopped writing once the call was over, long before its generator ran dry
    expect(sent).toBeLessThan(1_000_000);
  });
});
