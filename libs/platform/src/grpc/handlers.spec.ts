import { type DescService, create, createFileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, file_google_protobuf_wrappers } from '@bufbuild/protobuf/wkt';
import { serveFrom } from './handlers';

/** A service of three RPCs, described here so the test does not follow a real contract's growth. */
const ProfileService: DescService = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'shoal/test/profiles.proto',
    package: 'shoal.test',
    syntax: 'proto3',
    dependency: ['google/protobuf/wrappers.proto'],
    service: [
      {
        name: 'ProfileService',
        method: ['GetProfile', 'LookupProfile', 'StreamProfiles'].map((name) => ({
          name,
          inputType: '.google.protobuf.StringValue',
          outputType: '.google.protobuf.StringValue',
          serverStreaming: name === 'StreamProfiles',
        })),
      },
    ],
  }),
  (name) => (name === 'google/protobuf/wrappers.proto' ? file_google_protobuf_wrappers : undefined),
).getService('shoal.test.ProfileService') as DescService;

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
      'shoal.test.ProfileService.StreamProfiles is served by 0 adapters; it needs exactly one',
    );
  });

  it('refuses an RPC that two adapters serve', () => {
    expect(() => serveFrom(ProfileService, new Reads('a'), new Reads('b'), new Streams())).toThrow(
      'shoal.test.ProfileService.GetProfile is served by 2 adapters; it needs exactly one',
    );
  });
});
