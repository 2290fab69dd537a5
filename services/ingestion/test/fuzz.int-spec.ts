import { ProfileService, upstreamEventsTopic } from '@shoal/contracts';
import { healthServiceDescriptor } from '@shoal/platform';
import {
  type FuzzTarget,
  TestScope,
  eventually,
  fuzzCallers,
  fuzzRpc,
  rpcNames,
} from '@shoal/testing';
import { ingestionService } from '../src/service';

describe('ProfileService and health under arbitrary requests', () => {
  const scope = new TestScope();
  const health = healthServiceDescriptor();
  let profiles: FuzzTarget;
  let healthTarget: FuzzTarget;

  beforeAll(async () => {
    const ingestion = await scope.start(ingestionService, {
      PROFILE_READER_GROUPS: 'profile-readers',
    });
    await scope.produce(upstreamEventsTopic, [
      {
        key: 'fuzz-1',
        value: JSON.stringify({
          type: 'identify',
          messageId: 'fuzz-1',
          userId: 'fuzz-1',
          traits: { plan: 'pro' },
        }),
      },
    ]);
    const address = `127.0.0.1:${ingestion.grpcPort}`;
    const callers = await fuzzCallers(scope, [
      { subject: 'reader', groups: ['profile-readers'] },
      { subject: 'outsider', groups: ['marketing'] },
    ]);
    const reader = scope.client(
      ProfileService,
      ingestion,
      callers.find((c) => c.name === 'service')?.token,
    );
    await eventually(() => reader.getProfile({ profileId: 'user:fuzz-1' }));
    profiles = { service: ProfileService, address, callers, strings: ['user:fuzz-1', 'fuzz-1'] };
    healthTarget = {
      service: health,
      address,
      callers,
      strings: ['shoal.v1.ProfileService'],
      openStreams: ['Watch'],
      // the health service answers without a token
      open: true,
    };
  });
  afterAll(() => scope.close());

  it.each(rpcNames(ProfileService))(
    'ProfileService/%s answers every request, never INTERNAL, UNKNOWN or late',
    (rpc) => fuzzRpc(profiles, rpc),
  );

  it.each(rpcNames(health))(
    'grpc.health.v1.Health/%s answers every request, never INTERNAL, UNKNOWN or late',
    (rpc) => fuzzRpc(healthTarget, rpc),
  );
});
