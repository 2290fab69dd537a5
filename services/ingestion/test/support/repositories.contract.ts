import { IdentityKind } from '@shoal/contracts';
import type { AccountRepositoryPort } from '../../src/accounts/accounts.repository.port';
import type { IdentityRepositoryPort } from '../../src/profiles/identities.repository.port';
import { type ProfileState, newProfile, tagsOf } from '../../src/profiles/profile-state';
import type { ProfileRepositoryPort } from '../../src/profiles/profiles.repository.port';
import { type DirtyProfile, messageHash } from '../../src/profiles/working-set';

export interface Repositories {
  readonly profiles: ProfileRepositoryPort;
  readonly identities: IdentityRepositoryPort;
  readonly accounts: AccountRepositoryPort;
}

const dirty = (parts: Partial<DirtyProfile> = {}): DirtyProfile => ({
  all: false,
  traits: new Set(),
  tags: new Set(),
  accounts: new Set(),
  identities: new Set(),
  absorbed: new Set(),
  seen: false,
  stored: true,
  ...parts,
});

function profile(id: string, edit: (p: ProfileState) => void = () => undefined): ProfileState {
  const p = newProfile(id, 'inc-1', Date.parse('2026-11-01T00:00:00Z'));
  edit(p);
  return p;
}

const traitsOf = (p: ProfileState | undefined) =>
  Object.fromEntries([...(p?.traits ?? [])].map(([k, e]) => [k, e.v]));

/**
 * What every implementation of the repository ports must do, run against the in-memory fakes
 * (unit tests) and the MongoDB implementations (integration tests), so the fakes stay honest.
 */
export function repositoryContract(make: () => Promise<Repositories>): void {
  let repos: Repositories;
  beforeEach(async () => {
    repos = await make();
  });

  describe('profiles', () => {
    it('creates a missing document and says so, and joins into it afterwards', async () => {
      const p = profile('user:a', (s) => s.traits.set('plan', { t: 1, m: 'm1', v: 'pro' }));
      expect([
        ...(await repos.profiles.write([{ state: p, dirty: dirty({ all: true }) }])),
      ]).toEqual(['user:a']);
      expect([
        ...(await repos.profiles.write([
          { state: p, dirty: dirty({ traits: new Set(['plan']) }) },
        ])),
      ]).toEqual([]);
      expect(traitsOf((await repos.profiles.load(['user:a'])).get('user:a'))).toEqual({
        plan: 'pro',
      });
    });

    it('keeps the newest value of a trait by event time, then source id, whatever the order of writes', async () => {
      const write = (t: number, m: string, v: string) =>
        repos.profiles.write([
          {
            state: profile('user:b', (s) => s.traits.set('plan', { t, m, v })),
            dirty: dirty({ traits: new Set(['plan']) }),
          },
        ]);
      await write(5, 'm1', 'newest');
      await write(3, 'm9', 'older');
      await write(5, 'm0', 'same time, smaller id');
      expect(traitsOf((await repos.profiles.load(['user:b'])).get('user:b'))).toEqual({
        plan: 'newest',
      });
      await write(6, 'm0', 'newer still');
      expect(traitsOf((await repos.profiles.load(['user:b'])).get('user:b'))).toEqual({
        plan: 'newer still',
      });
    });

    it('writes only the parts marked changed, so two writers of one profile both keep theirs', async () => {
      const one = profile('user:c', (s) => {
        s.traits.set('plan', { t: 1, m: 'a', v: 'pro' });
        s.traits.set('city', { t: 1, m: 'a', v: 'from one, unmarked' });
      });
      const two = profile('user:c', (s) => {
        s.traits.set('city', { t: 2, m: 'b', v: 'Oslo' });
        s.identities.set('anon:x', { kind: IdentityKind.ANONYMOUS_ID, value: 'x' });
        s.lastSeenAt = Date.parse('2026-11-09T00:00:00Z');
      });
      await repos.profiles.write([{ state: one, dirty: dirty({ traits: new Set(['plan']) }) }]);
      await repos.profiles.write([
        {
          state: two,
          dirty: dirty({ traits: new Set(['city']), identities: new Set(['anon:x']) }),
        },
      ]);
      const stored = (await repos.profiles.load(['user:c'])).get('user:c');
      expect(traitsOf(stored)).toEqual({ plan: 'pro', city: 'Oslo' });
      expect([...(stored?.identities.keys() ?? [])]).toEqual(['anon:x']);
      expect(stored?.lastSeenAt).toBe(Date.parse('2026-11-09T00:00:00Z'));
      expect(stored?.firstSeenAt).toBe(Date.parse('2026-11-01T00:00:00Z'));
    });

    it('unions identities and absorbed profiles, keeps the earliest first seen and the latest last seen', async () => {
      const early = profile('user:d', (s) => {
        s.firstSeenAt = Date.parse('2026-10-01T00:00:00Z');
        s.identities.set('user:d', { kind: IdentityKind.USER_ID, value: 'd' });
        s.absorbed.add('anon:1');
      });
      const late = profile('user:d', (s) => {
        s.lastSeenAt = Date.parse('2026-12-01T00:00:00Z');
        s.identities.set('trait:email:d@example.com', {
          kind: IdentityKind.TRAIT,
          value: 'd@example.com',
          trait: 'email',
        });
        s.absorbed.add('anon:2');
      });
      await repos.profiles.write([{ state: early, dirty: dirty({ all: true }) }]);
      await repos.profiles.write([{ state: late, dirty: dirty({ all: true }) }]);
      const stored = (await repos.profiles.load(['user:d'])).get('user:d')!;
      expect([...stored.identities.keys()].sort()).toEqual(['trait:email:d@example.com', 'user:d']);
      expect(stored.identities.get('trait:email:d@example.com')?.trait).toBe('email');
      expect([...stored.absorbed].sort()).toEqual(['anon:1', 'anon:2']);
      expect(stored.firstSeenAt).toBe(Date.parse('2026-10-01T00:00:00Z'));
      expect(stored.lastSeenAt).toBe(Date.parse('2026-12-01T00:00:00Z'));
    });

    it('keeps tags and accounts whose names hold dots, dollars and percent signs', async () => {
      const p = profile('user:e', (s) => {
        s.tags.set('$vip.gold 100%', { t: 1, m: 'api:1', v: true, by: 'ann' });
        s.tags.set('gone', { t: 1, m: 'api:1', v: false, by: 'ann' });
        s.accounts.set('acme.com', { t: 1, m: 'm', v: true });
      });
      await repos.profiles.write([{ state: p, dirty: dirty({ all: true }) }]);
      const stored = (await repos.profiles.load(['user:e'])).get('user:e')!;
      expect(tagsOf(stored)).toEqual(['$vip.gold 100%']);
      expect(stored.tags.get('$vip.gold 100%')?.by).toBe('ann');
      expect([...stored.accounts.keys()]).toEqual(['acme.com']);
    });

    it('replaces the recent message ids when they changed', async () => {
      const seen = (...hashes: string[]) =>
        profile('user:f', (s) => {
          hashes.forEach((h, i) =>
            s.seen.set(h, { origin: `3:${100 + i}`, at: 1_000_000 + i * 1000, absorbed: i === 0 }),
          );
        });
      await repos.profiles.write([
        { state: seen(messageHash('a'), messageHash('b')), dirty: dirty({ seen: true }) },
      ]);
      await repos.profiles.write([{ state: seen(messageHash('c')), dirty: dirty({ seen: true }) }]);
      const stored = (await repos.profiles.load(['user:f'])).get('user:f')!;
      expect([...stored.seen]).toEqual([
        [messageHash('c'), { origin: '3:100', at: 1_000_000, absorbed: true }],
      ]);
    });

    it('stores everything of a new profile, as the store held none of it', async () => {
      const p = profile('user:n', (s) => {
        s.firstSeenAt = Date.parse('2026-10-01T00:00:00Z');
        s.lastSeenAt = Date.parse('2026-12-01T00:00:00Z');
        s.identities.set('user:n', { kind: IdentityKind.USER_ID, value: 'n' });
        s.identities.set('trait:email:n@example.com', {
          kind: IdentityKind.TRAIT,
          value: 'n@example.com',
          trait: 'email',
        });
        s.traits.set('plan', { t: 1, m: 'm1', v: 'pro' });
        s.traits.set('address', { t: 1, m: 'm1', v: { city: 'Oslo' } });
        s.tags.set('$vip.gold 100%', { t: 1, m: 'api:1', v: true, by: 'ann' });
        s.accounts.set('acme.com', { t: 1, m: 'm', v: true });
        s.absorbed.add('anon:1');
        s.seen.set(messageHash('a'), { origin: '3:100', at: 1_000_000, absorbed: false });
      });
      expect([
        ...(await repos.profiles.write([{ state: p, dirty: dirty({ all: true, stored: false }) }])),
      ]).toEqual(['user:n']);
      expect((await repos.profiles.load(['user:n'])).get('user:n')).toEqual(p);
    });

    it("keeps a new profile's traits named like an object's own properties", async () => {
      const p = profile('user:proto', (s) => {
        s.traits.set('__proto__', { t: 1, m: 'm1', v: { polluted: true } });
        s.traits.set('constructor', { t: 1, m: 'm1', v: 'c' });
      });
      await repos.profiles.write([{ state: p, dirty: dirty({ all: true, stored: false }) }]);
      const stored = (await repos.profiles.load(['user:proto'])).get('user:proto')!;
      expect(stored.traits.get('__proto__')?.v).toEqual({ polluted: true });
      expect(stored.traits.get('constructor')?.v).toBe('c');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('joins a new profile into a document another writer created meanwhile, and says it existed', async () => {
      const theirs = profile('user:m', (s) => {
        s.traits.set('plan', { t: 5, m: 'b', v: 'newer, theirs' });
        s.traits.set('city', { t: 1, m: 'b', v: 'Oslo' });
        s.identities.set('anon:theirs', { kind: IdentityKind.ANONYMOUS_ID, value: 'theirs' });
        s.firstSeenAt = Date.parse('2026-10-01T00:00:00Z');
      });
      const ours = profile('user:m', (s) => {
        s.traits.set('plan', { t: 1, m: 'a', v: 'older, ours' });
        s.traits.set('name', { t: 1, m: 'a', v: 'Ann' });
        s.identities.set('anon:ours', { kind: IdentityKind.ANONYMOUS_ID, value: 'ours' });
      });
      await repos.profiles.write([{ state: theirs, dirty: dirty({ all: true, stored: false }) }]);
      expect([
        ...(await repos.profiles.write([
          { state: ours, dirty: dirty({ all: true, stored: false }) },
          { state: profile('user:m2'), dirty: dirty({ all: true, stored: false }) },
        ])),
      ]).toEqual(['user:m2']);
      const stored = (await repos.profiles.load(['user:m'])).get('user:m')!;
      expect(traitsOf(stored)).toEqual({ plan: 'newer, theirs', city: 'Oslo', name: 'Ann' });
      expect([...stored.identities.keys()].sort()).toEqual(['anon:ours', 'anon:theirs']);
      expect(stored.firstSeenAt).toBe(Date.parse('2026-10-01T00:00:00Z'));
    });

    it('deletes by id and lists in id order after an id, up to a limit', async () => {
      for (const id of ['user:k3', 'user:k1', 'anon:k2'])
        await repos.profiles.write([{ state: profile(id), dirty: dirty({ all: true }) }]);
      await repos.profiles.delete(['user:k3', 'user:none']);
      const listed: string[] = [];
      for await (const p of repos.profiles.streamAfter('', 0)) listed.push(p.id);
      expect(listed.filter((id) => id.includes(':k'))).toEqual(['anon:k2', 'user:k1']);
      const after: string[] = [];
      for await (const p of repos.profiles.streamAfter('anon:k2', 1)) after.push(p.id);
      expect(after).toHaveLength(1);
      expect(after[0]! > 'anon:k2').toBe(true);
    });
  });

  describe('identities', () => {
    it('gives an identifier to the first claim and tells later claims its owner', async () => {
      expect(
        await repos.identities.claim(
          new Map([
            ['anon:z', 'anon:z'],
            ['user:z', 'user:z'],
          ]),
        ),
      ).toEqual(new Map());
      expect(
        await repos.identities.claim(
          new Map([
            ['anon:z', 'user:other'],
            ['anon:new', 'user:other'],
          ]),
        ),
      ).toEqual(new Map([['anon:z', 'anon:z']]));
      expect(await repos.identities.find(['anon:z', 'anon:new', 'anon:never'])).toEqual(
        new Map([
          ['anon:z', 'anon:z'],
          ['anon:new', 'user:other'],
        ]),
      );
    });

    it('reads thousands of identifiers and profiles at once, answering those that exist', async () => {
      const keys = Array.from({ length: 2_500 }, (_, i) => `anon:many-${i}`);
      const owned = keys.filter((_, i) => i % 3 === 0);
      await repos.identities.claim(new Map(owned.map((key) => [key, `user:of-${key}`])));
      const found = await repos.identities.find([...keys, keys[0] as string]);
      expect(found.size).toBe(owned.length);
      expect(found.get(keys[2_498] as string)).toBeUndefined();
      expect(found.get(keys[2_497] as string)).toBeUndefined();
      expect(found.get(keys[2_496] as string)).toBe(`user:of-${keys[2_496]}`);
      await repos.profiles.write(
        owned.map((key) => ({ state: profile(key), dirty: dirty({ all: true, stored: false }) })),
      );
      const loaded = await repos.profiles.load(keys);
      expect([...loaded.keys()].sort()).toEqual([...owned].sort());
      expect(loaded.get(owned[800] as string)?.id).toBe(owned[800]);
    });

    it('moves identifiers to a profile and deletes them', async () => {
      await repos.identities.claim(new Map([['anon:m', 'anon:m']]));
      await repos.identities.assign(
        new Map([
          ['anon:m', 'user:m'],
          ['trait:email:m@x', 'user:m'],
        ]),
      );
      expect(await repos.identities.find(['anon:m', 'trait:email:m@x'])).toEqual(
        new Map([
          ['anon:m', 'user:m'],
          ['trait:email:m@x', 'user:m'],
        ]),
      );
      await repos.identities.delete(['anon:m', 'trait:email:m@x']);
      expect(await repos.identities.find(['anon:m', 'trait:email:m@x'])).toEqual(new Map());
    });
  });

  describe('accounts', () => {
    it('joins traits newest-wins and keeps the span of group calls', async () => {
      const account = (t: number, v: string, at: number) => ({
        state: {
          id: 'acme',
          traits: new Map([['tier', { t, m: 'm', v }]]),
          firstSeenAt: at,
          lastSeenAt: at,
        },
        traits: new Set(['tier']),
        all: false,
      });
      await repos.accounts.write([account(5, 'gold', 5_000)]);
      await repos.accounts.write([account(2, 'silver', 2_000)]);
      const stored = (await repos.accounts.load(['acme', 'none'])).get('acme');
      expect(stored?.traits.get('tier')?.v).toBe('gold');
      expect([stored?.firstSeenAt, stored?.lastSeenAt]).toEqual([2_000, 5_000]);
    });
  });
}
