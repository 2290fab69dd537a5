// The platform's real-infrastructure tests live beside the harness they need (the platform
// itself cannot depend on @shoal/testing without a cycle).
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { ProfileService } from '@shoal/contracts';
import {
  GrpcCallError,
  DomainError,
  ErrorKind,
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
  signToken,
  loadSigningKey,
} from '@shoal/platform';
import { TestScope, eventually, testInfrastructure } from '../src';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const logger = createLogger({
  service: 'grpc-test',
  version: '0',
  level: 'silent',
  secrets: new SecretMask(),
});

describe('gRPC server and client from protobuf-es descriptors', () => {
  const scope = new TestScope();
  const aborted: string[] = [];
  const streamsCancelled: number[] = [];
  let server: GrpcServer;
  let address: string;
  let token: string;

  const notCalledHere = async (): Promise<never> => {
    throw new Error('not called by these tests');
  };
  const handlers: GrpcServiceHandlers<typeof ProfileService> = {
    async getProfile(request, context) {
      if (request.profileId.startsWith('echo:')) {
        // the way a handler naturally reports a missing id: echoing it
        throw new DomainError(ErrorKind.NotFound, 'NOT_FOUND', `no profile ${request.profileId}`, [
          { field: 'profileId', description: `${request.profileId} does not exist` },
        ]);
      }
      if (request.profileId === 'slow') {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          context.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            aborted.push(String(context.signal.reason));
            resolve();
          });
        });
      }
      // echoes who the server believes is calling
      return {
        profile: {
          id: context.principal.subject,
          accountIds: [...context.principal.groups],
          traits: { kind: context.principal.kind },
        },
      };
    },
    async lookupProfile() {
      throw new ValidationError([{ field: 'identity.value', description: 'is required' }]);
    },
    async *streamProfiles(request, context) {
      try {
        for (let i = 0; i < request.limit; i++)
          yield { profile: { id: `p${String(i).padStart(5, '0')}` } };
      } finally {
        if (context.signal.aborted) streamsCancelled.push(request.limit);
      }
    },
    listProfiles: notCalledHere,
    ingest: notCalledHere,
    ingestStream: notCalledHere,
    eraseProfile: notCalledHere,
    setProfileTags: notCalledHere,
    removeProfileTags: notCalledHere,
    getAccount: notCalledHere,
  };

  beforeAll(async () => {
    const schema = serviceConfigSchema({ service: 'grpc-test', grpcPort: 0, httpPort: 0 }, {});
    const verifier = await createTokenVerifier(loadConfig(schema, scope.env('grpc-test')));
    server = new GrpcServer(
      { host: '127.0.0.1', port: 0, maxMessageBytes: 1024 * 1024 },
      verifier,
      logger,
      new Metrics('grpc-test'),
    );
    server.register(ProfileService, handlers);
    address = `127.0.0.1:${await server.start()}`;
    server.setServing(true);
    token = await scope.token({ subject: 'ann', groups: ['marketing', 'admins'] });
  });
  afterAll(async () => {
    await server.stop();
    await scope.close();
  });

  const clients: { close(): void }[] = [];
  afterAll(() => clients.forEach((c) => c.close()));
  const client = (bearer?: string) => {
    const c = createGrpcClient(ProfileService, {
      address,
      ...(bearer ? { token: () => bearer } : {}),
    });
    clients.push(c);
    return c;
  };
  const failureOf = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GrpcCallError);
    return error as GrpcCallError;
  };

  it('takes the caller’s identity from the verified token only', async () => {
    const response = await client(token).getProfile(
      { profileId: 'x' },
      { headers: { 'x-user': 'mallory', 'x-groups': 'root' } },
    );
    expect(response.profile).toMatchObject({ id: 'ann', accountIds: ['marketing', 'admins'] });
  });

  it('refuses a call without a token', async () => {
    const error = await failureOf(client().getProfile({ profileId: 'x' }));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.details).toMatch(/missing bearer token/);
  });

  it('refuses an expired token', async () => {
    const key = await loadSigningKey(testInfrastructure().keys.userSigningKeyFile);
    const expired = await signToken(key, {
      subject: 'ann',
      issuer: 'shoal',
      audience: 'shoal',
      ttlSeconds: 60,
      now: new Date(Date.now() - 3_600_000),
    });
    const error = await failureOf(client(expired).getProfile({ profileId: 'x' }));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.details).toBe('token expired');
  });

  it('refuses a token signed with another key', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const file = join(tmpdir(), `foreign-${randomBytes(4).toString('hex')}.json`);
    await writeFile(
      file,
      JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'attacker', alg: 'ES256' }),
    );
    const forged = await signToken(await loadSigningKey(file), {
      subject: 'admin',
      issuer: 'shoal',
      audience: 'shoal',
      ttlSeconds: 60,
      now: new Date(),
    });
    const error = await failureOf(client(forged).getProfile({ profileId: 'x' }));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.details).toBe('token is not signed by a trusted key');
  });

  /** A token signed with the run's user signing key, with claims exactly as given. */
  const userKeyToken = async (claims: Record<string, unknown>) => {
    const key = await loadSigningKey(testInfrastructure().keys.userSigningKeyFile);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.key);
  };
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('takes a service token minted with the service key as that service', async () => {
    const minted = await scope.token({ subject: 'service:membership', service: 'membership' });
    const response = await client(minted).getProfile({ profileId: 'x' });
    expect(response.profile).toMatchObject({
      id: 'service:membership',
      traits: { kind: 'service' },
    });
  });

  it('never takes a token minted with the user signing key for a service token', async () => {
    const claims = { sub: 'service:membership', shoal_service: 'membership', aud: 'shoal' };
    const iat = nowSeconds();
    for (const iss of ['shoal', 'shoal-service']) {
      const minted = await userKeyToken({ ...claims, iss, iat, exp: iat + 60 });
      const answer = await client(minted)
        .getProfile({ profileId: 'x' })
        .then(
          (r) => r.profile?.traits?.kind,
          (e: GrpcCallError) => status[e.code],
        );
      expect({ iss, answer }).toEqual({ iss, answer: 'UNAUTHENTICATED' });
    }
  });

  it('refuses a token that lives longer than the configured maximum', async () => {
    const iat = nowSeconds();
    const century = await userKeyToken({
      sub: 'ann',
      iss: 'shoal',
      aud: 'shoal',
      iat,
      exp: iat + 100 * 365 * 86_400,
    });
    const error = await failureOf(client(century).getProfile({ profileId: 'x' }));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.details).toMatch(/lifetime/);
  });

  it('refuses a token without an issue time, or issued in the future', async () => {
    const iat = nowSeconds();
    const base = { sub: 'ann', iss: 'shoal', aud: 'shoal' };
    const undated = await userKeyToken({ ...base, exp: iat + 60 });
    const early = await userKeyToken({ ...base, iat: iat + 3_600, exp: iat + 3_660 });
    for (const token of [undated, early]) {
      expect((await failureOf(client(token).getProfile({ profileId: 'x' }))).code).toBe(
        grpc.status.UNAUTHENTICATED,
      );
    }
  });

  it('refuses a token for another audience', async () => {
    const key = await loadSigningKey(testInfrastructure().keys.userSigningKeyFile);
    const other = await signToken(key, {
      subject: 'ann',
      issuer: 'shoal',
      audience: 'billing',
      ttlSeconds: 60,
      now: new Date(),
    });
    expect((await failureOf(client(other).getProfile({ profileId: 'x' }))).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
  });

  it('streams server-streaming responses in order', async () => {
    const ids: string[] = [];
    for await (const item of client(token).streamProfiles({ limit: 2_000 }))
      ids.push(item.profile?.id ?? '');
    expect(ids).toHaveLength(2_000);
    expect(ids[0]).toBe('p00000');
    expect(ids[1_999]).toBe('p01999');
  });

  it('cancels a server stream the caller leaves early, so the server stops producing', async () => {
    let taken = 0;
    for await (const item of client(token).streamProfiles({ limit: 1_000_000 })) {
      expect(item.profile?.id).toBeDefined();
      if (++taken === 3) break;
    }
    await eventually(async () => expect(streamsCancelled).toContain(1_000_000));
  });

  it('leaves no abort listener on a caller’s signal once its calls are over', async () => {
    const controller = new AbortController();
    const calls = client(token);
    for (let i = 0; i < 20; i++)
      await calls.getProfile({ profileId: 'x' }, { signal: controller.signal });
    for await (const item of calls.streamProfiles({ limit: 5 }, { signal: controller.signal }))
      expect(item.profile?.id).toBeDefined();
    for await (const item of calls.streamProfiles({ limit: 5 }, { signal: controller.signal }))
      if (item.profile?.id === 'p00001') break;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('holds one abort listener on a signal many calls in flight share, and cancels them all when it aborts', async () => {
    const controller = new AbortController();
    const calls = client(token);
    const pending = Array.from({ length: 30 }, () =>
      failureOf(calls.getProfile({ profileId: 'slow' }, { signal: controller.signal })),
    );
    await eventually(async () =>
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1),
    );
    controller.abort();
    for (const error of await Promise.all(pending)) expect(error.code).toBe(status.CANCELLED);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // a call under a signal that has already aborted goes no further
    const late = await failureOf(
      calls.getProfile({ profileId: 'slow' }, { signal: controller.signal }),
    );
    expect(late.code).toBe(status.CANCELLED);
  });

  it('respects the caller’s deadline and tells the handler to stop', async () => {
    const error = await failureOf(
      client(token).getProfile({ profileId: 'slow' }, { deadlineMs: 300 }),
    );
    expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await eventually(async () => expect(aborted.length).toBeGreaterThan(0));
  });

  it('returns INVALID_ARGUMENT with the field path from a handler', async () => {
    const error = await failureOf(client(token).lookupProfile({}));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.violations).toEqual([{ field: 'identity.value', description: 'is required' }]);
  });

  it('returns INVALID_ARGUMENT for bytes that are not the request message', async () => {
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      raw.makeUnaryRequest(
        '/shoal.v1.ProfileService/GetProfile',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff]),
        metadata,
        (e) => resolve(e as grpc.ServiceError),
      ),
    );
    raw.close();
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('refuses a request over the size limit with RESOURCE_EXHAUSTED', async () => {
    const error = await failureOf(client(token).getProfile({ profileId: 'x'.repeat(1100 * 1024) }));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('answers promptly with a bounded NOT_FOUND when the missing id is huge', async () => {
    const error = await failureOf(
      client(token).getProfile(
        { profileId: `echo:${'x'.repeat(1_000_000)}` },
        { deadlineMs: 5_000 },
      ),
    );
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.details.length).toBeLessThan(1_024);
    expect(error.violations[0]?.field).toBe('profileId');
    expect(error.violations[0]?.description.length).toBeLessThan(1_024);
  });

  it('answers the standard health check without a token', async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(address, grpc.credentials.createInsecure()) as unknown as {
      check(
        req: { service: string },
        cb: (e: grpc.ServiceError | null, r: { status: string }) => void,
      ): void;
      close(): void;
    };
    const answer = await new Promise<{ status: string }>((resolve, reject) =>
      health.check({ service: 'shoal.v1.ProfileService' }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    health.close();
    expect(answer.status).toBe('SERVING');
  });

  it('streams health changes to a watcher, and refuses a malformed health request', async () => {
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(
      address,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
    };
    const seen: string[] = [];
    const watch = health.watch({ service: 'shoal.v1.ProfileService' });
    await new Promise<void>((resolve) => {
      watch.on('data', ({ status }: { status: string }) => {
        seen.push(status);
        if (seen.length === 1) server.setServing(false);
        if (seen.length === 2) server.setServing(true);
        if (seen.length === 3) resolve();
      });
    });
    watch.on('error', () => undefined); // the cancellation below
    watch.cancel();
    expect(seen).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);

    const malformed = await new Promise<grpc.ServiceError>((resolve) =>
      health.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x00]),
        (e) => resolve(e as grpc.ServiceError),
      ),
    );
    health.close();
    expect(malformed.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('describes its services through server reflection', async () => {
    const definition = loadSync(
      require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'),
      { keepCase: true },
    );
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: {
        reflection: {
          v1: {
            ServerReflection: new (
              a: string,
              c: grpc.ChannelCredentials,
            ) => grpc.Client & {
              ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, Record<string, unknown>>;
            };
          };
        };
      };
    };
    const reflection = new loaded.grpc.reflection.v1.ServerReflection(
      address,
      grpc.credentials.createInsecure(),
    );
    const ask = (request: Record<string, string>) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = reflection.ServerReflectionInfo();
        stream.on('data', (r) => {
          resolve(r);
          stream.end();
        });
        stream.on('error', reject);
        stream.write(request);
      });
    const listed = (await ask({ list_services: '*' })) as {
      list_services_response: { service: { name: string }[] };
    };
    expect(listed.list_services_response.service.map((s) => s.name)).toEqual(
      expect.arrayContaining(['shoal.v1.ProfileService', 'grpc.health.v1.Health']),
    );
    const described = (await ask({ file_containing_symbol: 'shoal.v1.ProfileService' })) as {
      file_descriptor_response?: { file_descriptor_proto: Buffer[] };
    };
    expect(described.file_descriptor_response?.file_descriptor_proto.length).toBeGreaterThan(0);
    reflection.close();
  });
});
