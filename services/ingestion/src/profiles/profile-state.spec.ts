import '../../test/support/fast-check-seed';
import { IdentityKind } from '@shoal/contracts';
import fc from 'fast-check';
import { type ProfileState, copyProfile, joinProfile, newProfile, trimSeen } from './profile-state';

const stamp = fc.record({ t: fc.integer({ min: 0, max: 5 }), m: fc.constantFrom('a', 'b', 'c') });
const keys = fc.constantFrom('plan', 'city', 'ltv');

/** Profiles with small domains, so that joins collide on keys and stamps. */
const profile: fc.Arbitrary<ProfileState> = fc
  .record({
    incarnation: fc.constantFrom('i1', 'i2'),
    createdAt: fc.integer({ min: 0, max: 9 }),
    firstSeenAt: fc.integer({ min: 0, max: 9 }),
    lastSeenAt: fc.integer({ min: 0, max: 9 }),
    identities: fc.uniqueArray(fc.constantFrom('a1', 'a2', 'a3'), { maxLength: 3 }),
    traits: fc.array(fc.tuple(keys, stamp, fc.constantFrom<unknown>('x', 1, null, { n: 1 }))),
    tags: fc.array(fc.tuple(fc.constantFrom('vip', 'beta'), stamp, fc.boolean())),
    accounts: fc.array(fc.tuple(fc.constantFrom('acme', 'globex'), stamp, fc.boolean())),
    absorbed: fc.uniqueArray(fc.constantFrom('anon:x', 'anon:y'), { maxLength: 2 }),
  })
  .map((r) => {
    const p = newProfile('user:u', r.incarnation, r.createdAt);
    p.firstSeenAt = r.firstSeenAt;
    p.lastSeenAt = r.lastSeenAt;
    for (const value of r.identities)
      p.identities.set(`anon:${value}`, { kind: IdentityKind.ANONYMOUS_ID, value });
    // each generated write goes through the join, so the arbitrary itself is a lattice value
    for (const [key, s, v] of r.traits) {
      const current = p.traits.get(key);
      if (!current || s.t > current.t || (s.t === current.t && s.m > current.m))
        p.traits.set(key, { ...s, v: v as never });
    }
    for (const [tag, s, v] of r.tags) {
      const current = p.tags.get(tag);
      if (!current || s.t > current.t || (s.t === current.t && s.m > current.m))
        p.tags.set(tag, { ...s, v, by: 'x' });
    }
    for (const [account, s, v] of r.accounts) {
      const current = p.accounts.get(account);
      if (!current || s.t > current.t || (s.t === current.t && s.m > current.m))
        p.accounts.set(account, { ...s, v });
    }
    for (const id of r.absorbed) p.absorbed.add(id);
    return p;
  });

/** A profile's lattice part as plain data, with sets and maps in a canonical order. */
function value(p: ProfileState) {
  const sorted = <V>(m: Map<string, V>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    incarnation: p.incarnation,
    createdAt: p.createdAt,
    firstSeenAt: p.firstSeenAt,
    lastSeenAt: p.lastSeenAt,
    identities: [...p.identities.keys()].sort(),
    traits: sorted(p.traits),
    tags: sorted(p.tags),
    accounts: sorted(p.accounts),
    absorbed: [...p.absorbed].sort(),
  };
}

function join(a: ProfileState, b: ProfileState): ProfileState {
  const into = copyProfile(a);
  joinProfile(into, b);
  return into;
}

describe('a profile is a join-semilattice', () => {
  it('joins in either order to the same profile', () => {
    fc.assert(
      fc.property(profile, profile, (a, b) => {
        expect(value(join(a, b))).toEqual(value(join(b, a)));
      }),
    );
  });

  it('joins three profiles to the same one however they are grouped', () => {
    fc.assert(
      fc.property(profile, profile, profile, (a, b, c) => {
        expect(value(join(join(a, b), c))).toEqual(value(join(a, join(b, c))));
      }),
    );
  });

  it('changes nothing when a profile is joined with itself or with what it already holds', () => {
    fc.assert(
      fc.property(profile, profile, (a, b) => {
        expect(value(join(a, a))).toEqual(value(a));
        const ab = join(a, b);
        const effect = joinProfile(ab, b);
        expect(effect).toEqual({
          traits: [],
          tagsAdded: [],
          tagsRemoved: [],
          accountsJoined: [],
          accountsLeft: [],
          identitiesAdded: [],
        });
      }),
    );
  });
});

describe('recent message ids', () => {
  it('are forgotten after the window and kept to the newest when there are too many', () => {
    const p = newProfile('user:u', 'i', 0);
    for (let i = 0; i < 6; i++)
      p.seen.set(`h${i}`, { origin: `0:${i}`, at: i * 1000, absorbed: false });
    expect(trimSeen(p, 5_000, 3_500, 10)).toBe(true);
    expect([...p.seen.keys()]).toEqual(['h2', 'h3', 'h4', 'h5']);
    expect(trimSeen(p, 5_000, 3_500, 2)).toBe(true);
    expect([...p.seen.keys()].sort()).toEqual(['h4', 'h5']);
    expect(trimSeen(p, 5_000, 3_500, 2)).toBe(false);
  });
});
