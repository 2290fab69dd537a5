import { status } from '@grpc/grpc-js';
import { IdentityKind, ProfileService, upstreamEventsTopic } from '@shoal/contracts';
import { GrpcCallError, type RunningService } from '@shoal/platform';
import { TestScope, eventually } from '@shoal/testing';
import { ingestionService } from '../src/service';

/** Who may read profiles over ProfileService: services, and users in the reader groups. */
describe('ProfileService access', () => {
  const scope = new TestScope();
  let ingestion: RunningService;
  const clientFor = async (subject: string, groups: string[]) =>
    scope.client(ProfileService, ingestion, await scope.token({ subject, groups }));
  const serviceClient = async () =>
    scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'service:membership', service: 'membership' }),
    );
  const codeOf = (call: Promise<unknown>) =>
    call.then(
      () => 'OK',
      (e: unknown) => (e instanceof GrpcCallError ? status[e.code] : String(e)),
    );
  const streamed = async (stream: AsyncIterable<{ profile?: { id: string } }>) => {
    const ids: string[] = [];
    for await (const item of stream) ids.push(item.profile?.id ?? '');
    return ids;
  };

  beforeAll(async () => {
    ingestion = await scope.start(ingestionService, {
      PROFILE_READER_GROUPS: 'profile-readers, support',
    });
    await scope.produce(upstreamEventsTopic, [
      {
        key: 'reader-1',
        value: JSON.stringify({
          type: 'identify',
          messageId: 'access-1',
          userId: 'reader-1',
          traits: { email: 'one@example.com' },
        }),
      },
    ]);
    const service = await serviceClient();
    await eventually(() => service.getProfile({ profileId: 'user:reader-1' }));
  });
  afterAll(() => scope.close());

  it('refuses every profile read to a user outside the reader groups', async () => {
    const marketing = await clientFor('mallory', ['marketing']);
    expect({
      get: await codeOf(marketing.getProfile({ profileId: 'user:reader-1' })),
      lookup: await codeOf(
        marketing.lookupProfile({ identity: { kind: IdentityKind.USER_ID, value: 'reader-1' } }),
      ),
      stream: await codeOf(streamed(marketing.streamProfiles({ limit: 0 }))),
    }).toEqual({
      get: 'PERMISSION_DENIED',
      lookup: 'PERMISSION_DENIED',
      stream: 'PERMISSION_DENIED',
    });
  });

  it('lets a reader group read one profile at a time, but never stream them all', async () => {
    const support = await clientFor('sam', ['support']);
    const { profile } = await support.getProfile({ profileId: 'user:reader-1' });
    expect(profile?.traits).toEqual({ email: 'one@example.com' });
    expect(
      await codeOf(
        support.lookupProfile({ identity: { kind: IdentityKind.USER_ID, value: 'reader-1' } }),
      ),
    ).toBe('OK');
    expect(await codeOf(streamed(support.streamProfiles({ limit: 0 })))).toBe('PERMISSION_DENIED');
  });

  it('lets a service read and stream profiles', async () => {
    const service = await serviceClient();
    // the stream reads the store, which has a profile from the first checkpoint after it
    await eventually(async () =>
      expect(await streamed(service.streamProfiles({ limit: 0 }))).toEqual(['user:reader-1']),
    );
    expect(await codeOf(service.getProfile({ profileId: 'user:reader-1' }))).toBe('OK');
  });

  it('answers a huge profile id at once with a bounded NOT_FOUND', async () => {
    const service = await serviceClient();
    const error = await service
      .getProfile({ profileId: `user:${'x'.repeat(2_000_000)}` }, { deadlineMs: 10_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrpcCallError);
    expect((error as GrpcCallError).code).toBe(status.NOT_FOUND);
    expect(Buffer.byteLength((error as GrpcCallError).details)).toBeLessThanOrEqual(512);
  });
});
