import { create } from '@bufbuild/protobuf';
import { IdentityKind, type Profile, ProfileSchema } from '@shoal/contracts';
import { DomainError, ErrorKind, type Principal } from '@shoal/platform';
import type { ProfileRepositoryPort } from './profiles.repository';
import { ProfilesService } from './profiles.service';

/** A repository holding a fixed set of profiles, remembering whether it was read. */
function profilesOf(...ids: string[]) {
  const stored = new Map(ids.map((id) => [id, create(ProfileSchema, { id })]));
  const reads: string[] = [];
  const repository: ProfileRepositoryPort = {
    applyChanges: async () => undefined,
    findById: async (id) => {
      reads.push(id);
      return stored.get(id);
    },
    async *streamAfter(afterId, limit) {
      reads.push(`stream>${afterId}`);
      const after = [...stored.values()].filter((p) => p.id > afterId);
      yield* limit === 0 ? after : after.slice(0, limit);
    },
  };
  return { repository, reads };
}

const user = (subject: string, groups: string[] = []): Principal => ({
  subject,
  groups,
  kind: 'user',
});
const service: Principal = {
  subject: 'service:membership',
  groups: [],
  kind: 'service',
  service: 'membership',
};

async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return `${error.kind} ${error.reason}`;
    throw error;
  }
}

async function all(profiles: AsyncIterable<Profile>): Promise<string[]> {
  const ids: string[] = [];
  for await (const profile of profiles) ids.push(profile.id);
  return ids;
}

describe('profiles service: who may read', () => {
  const setup = (readerGroups: string[] = ['support']) => {
    const { repository, reads } = profilesOf('user:a', 'user:b');
    return { profiles: new ProfilesService(repository, { groups: readerGroups }), reads };
  };
  const identity = { kind: IdentityKind.USER_ID, value: 'a' };

  it('lets services read, look up and stream profiles', async () => {
    const { profiles } = setup();
    expect((await profiles.get('user:a', service)).id).toBe('user:a');
    expect((await profiles.lookup(identity, service)).id).toBe('user:a');
    expect(await all(profiles.stream('', 0, service))).toEqual(['user:a', 'user:b']);
  });

  it('lets users of a reader group read and look up single profiles', async () => {
    const { profiles } = setup(['support', 'crm']);
    expect((await profiles.get('user:b', user('sam', ['crm']))).id).toBe('user:b');
    expect((await profiles.lookup(identity, user('sam', ['support']))).id).toBe('user:a');
  });

  it('refuses users outside the reader groups before touching the store', async () => {
    const { profiles, reads } = setup();
    const mallory = user('mallory', ['marketing']);
    expect(await outcome(() => profiles.get('user:a', mallory))).toBe(
      `${ErrorKind.PermissionDenied} PROFILE_READ_DENIED`,
    );
    expect(await outcome(() => profiles.lookup(identity, mallory))).toBe(
      `${ErrorKind.PermissionDenied} PROFILE_READ_DENIED`,
    );
    expect(await outcome(() => profiles.get('', mallory))).toBe(
      `${ErrorKind.PermissionDenied} PROFILE_READ_DENIED`,
    );
    expect(reads).toEqual([]);
  });

  it('refuses every user when no reader group is configured', async () => {
    const { profiles } = setup([]);
    expect(await outcome(() => profiles.get('user:a', user('sam', ['support'])))).toBe(
      `${ErrorKind.PermissionDenied} PROFILE_READ_DENIED`,
    );
  });

  it('keeps streaming every profile to services, even for reader groups', async () => {
    const { profiles, reads } = setup();
    expect(await outcome(() => all(profiles.stream('', 0, user('sam', ['support']))))).toBe(
      `${ErrorKind.PermissionDenied} PROFILE_STREAM_DENIED`,
    );
    expect(reads).toEqual([]);
  });

  it('still validates what an authorised caller asks', async () => {
    const { profiles } = setup();
    expect(await outcome(() => profiles.get('', service))).toBe(
      `${ErrorKind.InvalidArgument} INVALID_ARGUMENT`,
    );
    expect(await outcome(() => all(profiles.stream('', -1, service)))).toBe(
      `${ErrorKind.InvalidArgument} INVALID_ARGUMENT`,
    );
    expect(await outcome(() => profiles.get('user:zed', service))).toBe(
      `${ErrorKind.NotFound} PROFILE_NOT_FOUND`,
    );
  });
});
