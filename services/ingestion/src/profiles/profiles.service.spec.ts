import { IdentityKind, type Profile } from '@shoal/contracts';
import { DomainError, ErrorKind, type Principal } from '@shoal/platform';
import { testIngestion } from '../../test/support/test-ingestion';
import { upstream } from '../../test/support/upstream-events';
import { ProfileAccess, type ProfileAccessGroups } from './profile-access';
import { ProfilesService } from './profiles.service';

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

/** Profiles user:a and user:b written to the store, and the service over them. */
async function setup(groups: Partial<ProfileAccessGroups> = {}) {
  const { service: ingestion, store, ingest } = testIngestion();
  await ingest([
    upstream.identify({ userId: 'a' }, '2026-11-01T00:00:00Z', { plan: 'pro' }),
    upstream.group({ userId: 'b' }, '2026-11-01T00:00:00Z', 'acme', { tier: 'gold' }),
  ]);
  await ingestion.checkpoint();
  const access = new ProfileAccess({ readers: ['support'], writers: [], admins: [], ...groups });
  const reads = () => store.profiles.loaded.length + store.identities.found.length;
  return { profiles: new ProfilesService(ingestion, access, store.profiles), store, reads };
}

const identity = { kind: IdentityKind.USER_ID, value: 'a' };
const denied = (reason: string) => `${ErrorKind.PermissionDenied} ${reason}`;

describe('profiles service: who may read', () => {
  it('lets services read, look up, page and stream profiles and read accounts', async () => {
    const { profiles } = await setup();
    expect((await profiles.get('user:a', service)).id).toBe('user:a');
    expect((await profiles.lookup(identity, service)).id).toBe('user:a');
    expect((await profiles.page('', 10, service)).map((p) => p.id)).toEqual(['user:a', 'user:b']);
    expect(await all(profiles.stream('', 0, service))).toEqual(['user:a', 'user:b']);
    expect((await profiles.account('acme', service)).traits).toEqual({ tier: 'gold' });
  });

  it('lets users of a reader group read, look up and page profiles', async () => {
    const { profiles } = await setup({ readers: ['support', 'crm'] });
    expect((await profiles.get('user:b', user('sam', ['crm']))).id).toBe('user:b');
    expect((await profiles.lookup(identity, user('sam', ['support']))).id).toBe('user:a');
    expect(await profiles.page('user:a', 10, user('sam', ['crm']))).toHaveLength(1);
  });

  it('refuses users outside the reader groups before touching the store', async () => {
    const { profiles, reads } = await setup();
    const before = reads();
    const mallory = user('mallory', ['marketing']);
    for (const call of [
      () => profiles.get('user:a', mallory),
      () => profiles.lookup(identity, mallory),
      () => profiles.get('', mallory),
      () => profiles.page('', 10, mallory),
      () => profiles.account('acme', mallory),
    ])
      expect(await outcome(call)).toBe(denied('PROFILE_READ_DENIED'));
    expect(reads()).toBe(before);
  });

  it('refuses every user when no reader group is configured', async () => {
    const { profiles } = await setup({ readers: [] });
    expect(await outcome(() => profiles.get('user:a', user('sam', ['support'])))).toBe(
      denied('PROFILE_READ_DENIED'),
    );
  });

  it('keeps streaming every profile to services, even for reader groups', async () => {
    const { profiles } = await setup();
    expect(await outcome(() => all(profiles.stream('', 0, user('sam', ['support']))))).toBe(
      denied('PROFILE_STREAM_DENIED'),
    );
  });

  it('still validates what an authorised caller asks', async () => {
    const { profiles } = await setup();
    expect(await outcome(() => profiles.get('', service))).toBe(
      `${ErrorKind.InvalidArgument} INVALID_ARGUMENT`,
    );
    expect(await outcome(() => all(profiles.stream('', -1, service)))).toBe(
      `${ErrorKind.InvalidArgument} INVALID_ARGUMENT`,
    );
    expect(await outcome(() => profiles.get('user:zed', service))).toBe(
      `${ErrorKind.NotFound} PROFILE_NOT_FOUND`,
    );
    expect(await outcome(() => profiles.account('nope', service))).toBe(
      `${ErrorKind.NotFound} ACCOUNT_NOT_FOUND`,
    );
  });
});

describe('profiles service: who may change', () => {
  it('lets services and writer groups change tags, recording who did', async () => {
    const { profiles, store } = await setup({ writers: ['crm'] });
    await profiles.changeTags('user:a', ['vip'], true, user('sam', ['crm']), 'r1');
    const tagged = await profiles.changeTags('user:a', ['beta'], true, service, undefined);
    expect(tagged.tags).toEqual(['beta', 'vip']);
    const actors = store.topic.published
      .filter((c) => c.change.case === 'tagsChanged')
      .map((c) => c.actor);
    expect(actors).toEqual(['sam', 'service:membership']);
  });

  it('refuses tag changes from readers, and erasure from writers', async () => {
    const { profiles } = await setup({ writers: ['crm'], admins: ['dpo'] });
    expect(
      await outcome(() =>
        profiles.changeTags('user:a', ['vip'], true, user('sam', ['support']), undefined),
      ),
    ).toBe(denied('PROFILE_WRITE_DENIED'));
    expect(
      await outcome(() => profiles.erase({ profileId: 'user:a' }, user('sam', ['crm']), undefined)),
    ).toBe(denied('PROFILE_ERASE_DENIED'));
    expect(
      await outcome(() => profiles.erase({ profileId: 'user:a' }, user('ada', ['dpo']), undefined)),
    ).toBe('ok');
  });

  it('names every problem with a tag change', async () => {
    const { profiles } = await setup();
    const failure = await profiles
      .changeTags('', ['', 'x'.repeat(129), 'ok', 'a\u0007b'], true, service, undefined)
      .catch((error: DomainError) => error.violations.map((v) => v.field));
    expect(failure).toEqual(['profileId', 'tags[0]', 'tags[1]', 'tags[3]']);
  });

  it('erases a profile named by an identifier, and asks for exactly one way to name it', async () => {
    const { profiles } = await setup();
    expect(await profiles.erase({ identity }, service, 'gdpr-1')).toEqual({
      profileId: 'user:a',
      absorbedProfileIds: [],
    });
    expect(await outcome(() => profiles.get('user:a', service))).toBe(
      `${ErrorKind.NotFound} PROFILE_NOT_FOUND`,
    );
    const both = await profiles
      .erase({ profileId: 'user:b', identity }, service, undefined)
      .catch((error: DomainError) => error.violations.map((v) => v.field));
    expect(both).toEqual(['identity']);
  });
});
