import { ProfileService } from '@shoal/contracts';
import { serveFrom } from './handlers';

class Reads {
  constructor(private readonly answer: string) {}
  async getProfile() {
    return { profile: { id: this.answer } };
  }
  async lookupProfile() {
    return { profile: { id: 'looked up' } };
  }
  helper() {
    return 'not an RPC';
  }
}

class Streams {
  async *streamProfiles() {
    yield { id: 'streamed' };
  }
}

describe('serving one gRPC service from the adapters of several features', () => {
  it('answers each RPC from the adapter with a method of its name, bound to it', async () => {
    const handlers = serveFrom(ProfileService, new Reads('p1'), new Streams());
    expect(Object.keys(handlers).sort()).toEqual(['getProfile', 'lookupProfile', 'streamProfiles']);
    const { getProfile } = handlers;
    expect(await getProfile()).toEqual({ profile: { id: 'p1' } });
  });

  it('refuses an RPC that no adapter serves', () => {
    expect(() => serveFrom(ProfileService, new Reads('p1'))).toThrow(
      'shoal.v1.ProfileService.StreamProfiles is served by 0 adapters; it needs exactly one',
    );
  });

  it('refuses an RPC that two adapters serve', () => {
    expect(() => serveFrom(ProfileService, new Reads('a'), new Reads('b'), new Streams())).toThrow(
      'shoal.v1.ProfileService.GetProfile is served by 2 adapters; it needs exactly one',
    );
  });
});
