import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { IdentityKind, UpstreamEventSchema } from '@shoal/contracts';
import { profileChangesFrom, profileIdOf } from './profile-changes';

const at = (iso: string) => timestampFromDate(new Date(iso));

describe('profile changes from events', () => {
  it('addresses a profile by user id, else by anonymous id', () => {
    expect(profileIdOf({ kind: IdentityKind.USER_ID, value: 'u1' })).toBe('user:u1');
    expect(profileIdOf({ kind: IdentityKind.ANONYMOUS_ID, value: 'a1' })).toBe('anon:a1');
  });

  it('merges traits in order, tracks first and last seen, and collects accounts', () => {
    const events = [
      create(UpstreamEventSchema, {
        messageId: '1',
        userId: 'u1',
        anonymousId: 'a1',
        timestamp: at('2026-01-02T00:00:00Z'),
        payload: { case: 'identify', value: { traits: { plan: 'free', name: 'Ann' } } },
      }),
      create(UpstreamEventSchema, {
        messageId: '2',
        userId: 'u1',
        timestamp: at('2026-01-01T00:00:00Z'),
        payload: { case: 'identify', value: { traits: { plan: 'pro' } } },
      }),
      create(UpstreamEventSchema, {
        messageId: '3',
        userId: 'u1',
        timestamp: at('2026-01-03T00:00:00Z'),
        payload: { case: 'group', value: { groupId: 'acme' } },
      }),
      create(UpstreamEventSchema, {
        messageId: '4',
        anonymousId: 'a2',
        timestamp: at('2026-01-04T00:00:00Z'),
        payload: { case: 'track', value: { event: 'Page Viewed' } },
      }),
    ];
    const [u1, a2] = profileChangesFrom(events);
    expect(u1).toMatchObject({
      profileId: 'user:u1',
      traits: { plan: 'pro', name: 'Ann' },
      accountIds: ['acme'],
      firstSeenAt: new Date('2026-01-01T00:00:00Z'),
      lastSeenAt: new Date('2026-01-03T00:00:00Z'),
    });
    expect(u1?.identities).toEqual([
      { kind: IdentityKind.USER_ID, value: 'u1' },
      { kind: IdentityKind.ANONYMOUS_ID, value: 'a1' },
    ]);
    expect(a2?.profileId).toBe('anon:a2');
  });
});
