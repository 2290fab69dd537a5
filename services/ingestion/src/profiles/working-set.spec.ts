import { toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { IdentityKind, type ProfileChange, type UpstreamEvent } from '@shoal/contracts';
import { upstream } from '../../test/support/upstream-events';
import { tagsOf } from './profile-state';
import { type RecordOutcome, WorkingSet, type WorkingSetRules } from './working-set';

const rules: WorkingSetRules = {
  maxIdentities: 10,
  identityTraits: ['email'],
  dedupWindowMs: 3_600_000,
  dedupMaxPerProfile: 100,
};

/**
 * A working set over an empty store: whatever a record needs that is not in memory yet does
 * not exist. Records get consecutive offsets unless they say where they came from.
 */
function fresh(with_: Partial<WorkingSetRules> = {}) {
  const ws = new WorkingSet({ ...rules, ...with_ });
  let offset = 0;
  const apply = (event: UpstreamEvent, origin = `0:${offset++}`): RecordOutcome => {
    const record = { event, origin, arrivedAt: Date.parse('2026-12-01T00:00:00Z') };
    const missing = ws.missing([ws.needs(record)]);
    ws.remember({
      identities: new Map([...missing.claims.keys(), ...missing.lookups].map((k) => [k, null])),
      profiles: new Map([...missing.profileIds].map((id) => [id, null])),
      accounts: new Map([...missing.accountIds].map((id) => [id, null])),
    });
    return ws.apply(record, Date.parse('2026-12-01T00:00:01Z'));
  };
  const changes = (outcome: RecordOutcome): ProfileChange[] =>
    outcome.kind === 'applied' ? outcome.changes : [];
  const profile = (id: string) => {
    const found = ws.live(id);
    if (!found) throw new Error(`no profile ${id}`);
    return found;
  };
  const traits = (id: string) =>
    Object.fromEntries([...profile(id).traits].map(([k, e]) => [k, e.v]));
  return { ws, apply, changes, profile, traits };
}

/** A change as a line: subject, what, details. */
function describe_(change: ProfileChange): string {
  const c = change.change;
  switch (c.case) {
    case 'eventRecorded':
      return `${change.subjectId} event ${c.value.name} ${JSON.stringify(c.value.properties ?? {})}`;
    case 'traitsChanged':
    case 'accountTraitsChanged':
      return `${change.subjectId} ${c.case} ${c.value.changes
        .map(
          (t) =>
            `${t.key}: ${t.previous ? JSON.stringify(toJson(ValueSchema, t.previous)) : '∅'} → ${JSON.stringify(toJson(ValueSchema, t.value!))}`,
        )
        .join(', ')}`;
    case 'identityAdded':
      return `${change.subjectId} identity ${IdentityKind[c.value.identity!.kind]} ${c.value.identity!.value}`;
    case 'accountJoined':
    case 'accountLeft':
      return `${change.subjectId} ${c.case} ${change.accountId}`;
    case 'tagsChanged':
      return `${change.subjectId} tags +[${c.value.added}] -[${c.value.removed}]`;
    case 'profilesMerged':
      return `${change.subjectId} merged [${c.value.absorbedProfileIds}] into ${c.value.survivorProfileId}`;
    case 'profileErased':
      return `${change.subjectId} erased`;
    case undefined:
      return `${change.subjectId} ?`;
  }
}

const lines = (changes: readonly ProfileChange[]) => changes.map(describe_);

describe('the working set', () => {
  it('creates a profile for a new anonymous id and records its event', () => {
    const { apply, changes } = fresh();
    const outcome = apply(
      upstream.track({ anonymousId: 'a1' }, '2026-11-01T10:00:00Z', 'Viewed', { sku: 'x' }),
    );
    expect(lines(changes(outcome))).toEqual([
      'anon:a1 identity ANONYMOUS_ID a1',
      'anon:a1 event Viewed {"sku":"x"}',
    ]);
    expect(changes(outcome).every((c) => c.incarnation !== '')).toBe(true);
  });

  it('gives a user first seen with the anonymous id they browsed with one profile that absorbs the anonymous one, with one merge', () => {
    const { apply, changes, profile, ws } = fresh();
    apply(upstream.track({ anonymousId: 'a1' }, '2026-11-01T10:00:00Z', 'Viewed'));
    const identify = apply(
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T10:05:00Z', {
        plan: 'pro',
      }),
    );
    expect(lines(changes(identify))).toEqual([
      'user:u1 merged [anon:a1] into user:u1',
      'anon:a1 merged [anon:a1] into user:u1',
      'user:u1 identity ANONYMOUS_ID a1',
      'user:u1 identity USER_ID u1',
      'user:u1 traitsChanged plan: ∅ → "pro"',
    ]);
    expect(profile('anon:a1').id).toBe('user:u1');
    expect(ws.identities.get('anon:a1')).toBe('user:u1');
    expect([...profile('user:u1').absorbed]).toEqual(['anon:a1']);
    expect(profile('user:u1').firstSeenAt).toBe(Date.parse('2026-11-01T10:00:00Z'));
  });

  it('adds a user id seen with a known user’s anonymous id to that user, without a merge', () => {
    const { apply, changes, profile } = fresh();
    apply(upstream.identify({ userId: 'u1', anonymousId: 'shared' }, '2026-11-01T10:00:00Z', {}));
    const second = apply(
      upstream.track({ userId: 'u2', anonymousId: 'shared' }, '2026-11-01T11:00:00Z', 'x'),
    );
    expect(lines(changes(second))).toEqual(['user:u1 identity USER_ID u2', 'user:u1 event x {}']);
    expect(profile('user:u2').id).toBe('user:u1');
  });

  it('keeps the newest trait by event time when an older identify arrives later', () => {
    const { apply, changes, traits } = fresh();
    apply(upstream.identify({ userId: 'u1' }, '2026-11-02T00:00:00Z', { plan: 'pro' }));
    const late = apply(
      upstream.identify({ userId: 'u1' }, '2026-11-01T00:00:00Z', { plan: 'free', city: 'Oslo' }),
    );
    expect(lines(changes(late))).toEqual(['user:u1 traitsChanged city: ∅ → "Oslo"']);
    expect(traits('user:u1')).toEqual({ plan: 'pro', city: 'Oslo' });
  });

  it('ends with the same traits whatever order identifies arrive in, ties broken by message id', () => {
    const events = [
      upstream.identify({ userId: 'u1' }, '2026-11-01T00:00:00Z', { plan: 'a', x: 1 }, 'm-b'),
      upstream.identify({ userId: 'u1' }, '2026-11-01T00:00:00Z', { plan: 'b' }, 'm-a'),
      upstream.identify({ userId: 'u1' }, '2026-10-01T00:00:00Z', { plan: 'c', x: 2 }, 'm-c'),
    ];
    const outcomes = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ].map((order) => {
      const { apply, traits } = fresh();
      for (const i of order) apply(events[i]!);
      return traits('user:u1');
    });
    expect(outcomes).toEqual([outcomes[0], outcomes[0], outcomes[0]]);
    expect(outcomes[0]).toEqual({ plan: 'a', x: 1 });
  });

  it('publishes nothing for a repeated messageId from another record', () => {
    const { apply } = fresh();
    apply(upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'Bought', {}, 'dup'));
    expect(
      apply(upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'Bought', {}, 'dup')),
    ).toEqual({
      kind: 'duplicate',
    });
  });

  it('applies a replay of the same record again, publishing only changes with the ids it had', () => {
    const { apply, changes } = fresh();
    const event = upstream.identify({ userId: 'u1' }, '2026-11-01T00:00:00Z', { plan: 'pro' });
    const first = changes(apply(event, '3:17'));
    const replay = apply(event, '3:17');
    expect(replay.kind).toBe('applied');
    const firstIds = new Set(first.map((c) => c.id));
    expect(changes(replay).every((c) => firstIds.has(c.id))).toBe(true);
    const track = upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'Bought');
    const [recorded] = changes(apply(track, '3:18'));
    expect(changes(apply(track, '3:18')).map((c) => c.id)).toEqual([recorded?.id]);
  });

  it('refuses a record that would give a profile more identifiers than allowed, and changes nothing', () => {
    const { apply, changes, profile } = fresh({ maxIdentities: 3 });
    apply(upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:00:00Z', {}));
    apply(upstream.track({ anonymousId: 'a2' }, '2026-11-01T00:00:00Z', 'x'));
    apply(upstream.track({ anonymousId: 'a3' }, '2026-11-01T00:00:00Z', 'x'));
    expect(
      apply(upstream.track({ userId: 'u1', anonymousId: 'a2' }, '2026-11-01T01:00:00Z', 'y')).kind,
    ).toBe('applied');
    const refused = apply(
      upstream.track({ userId: 'u1', anonymousId: 'a3' }, '2026-11-01T02:00:00Z', 'z'),
    );
    expect(refused.kind === 'refused' && refused.error).toMatchObject({
      reason: 'IDENTITY_LIMIT',
      message:
        'merging user:u1, anon:a3 would give one profile 4 identifiers; INGEST_MAX_IDENTITIES allows 3',
    });
    expect(profile('anon:a3').id).toBe('anon:a3');
    expect(profile('user:u1').identities.size).toBe(3);
    expect(changes(refused)).toEqual([]);
  });

  it('merges two user profiles an alias links into the one created first', () => {
    const { apply, changes, profile, traits } = fresh();
    apply(upstream.identify({ userId: 'new' }, '2026-11-05T00:00:00Z', { plan: 'pro' }));
    apply(
      upstream.identify({ userId: 'old' }, '2026-11-01T00:00:00Z', { plan: 'free', city: 'Oslo' }),
    );
    const alias = apply(upstream.alias('new', 'old', '2026-11-06T00:00:00Z'));
    expect(lines(changes(alias))).toEqual([
      'user:old merged [user:new] into user:old',
      'user:new merged [user:new] into user:old',
      'user:old identity USER_ID new',
      'user:old traitsChanged plan: "free" → "pro"',
    ]);
    expect(profile('user:new').id).toBe('user:old');
    expect(traits('user:old')).toEqual({ plan: 'pro', city: 'Oslo' });
  });

  it('merges anonymous profiles that share an identifier trait', () => {
    const { apply, profile } = fresh();
    apply(
      upstream.identify({ anonymousId: 'phone' }, '2026-11-01T00:00:00Z', {
        email: 'ann@example.com',
      }),
    );
    apply(
      upstream.identify({ anonymousId: 'laptop' }, '2026-11-02T00:00:00Z', {
        email: 'ann@example.com',
      }),
    );
    expect(profile('anon:laptop').id).toBe('anon:phone');
    expect(
      [...profile('anon:phone').identities.values()].map(
        (i) => `${i.kind}:${i.trait ?? ''}:${i.value}`,
      ),
    ).toEqual([
      `${IdentityKind.ANONYMOUS_ID}::phone`,
      `${IdentityKind.TRAIT}:email:ann@example.com`,
      `${IdentityKind.ANONYMOUS_ID}::laptop`,
    ]);
  });

  it('joins an account once and records its traits keyed by the account', () => {
    const { apply, changes, ws } = fresh();
    const first = apply(
      upstream.group({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'acme', { tier: 'gold' }),
    );
    expect(lines(changes(first))).toEqual([
      'user:u1 identity USER_ID u1',
      'acme accountTraitsChanged tier: ∅ → "gold"',
      'user:u1 accountJoined acme',
    ]);
    const again = apply(
      upstream.group({ userId: 'u1' }, '2026-11-02T00:00:00Z', 'acme', { tier: 'gold' }),
    );
    expect(lines(changes(again))).toEqual([]);
    expect(ws.accounts.get('acme')?.traits.get('tier')?.v).toBe('gold');
  });

  it('records page and screen calls as Page Viewed and Screen Viewed with their name and category', () => {
    const { apply, changes } = fresh();
    const page = apply(
      upstream.page(
        { anonymousId: 'a' },
        '2026-11-01T00:00:00Z',
        'Pricing',
        { path: '/pricing' },
        'Docs',
      ),
    );
    const screen = apply(upstream.screen({ anonymousId: 'a' }, '2026-11-01T00:00:00Z', 'Checkout'));
    expect(lines(changes(page)).slice(-1)).toEqual([
      'anon:a event Page Viewed {"path":"/pricing","name":"Pricing","category":"Docs"}',
    ]);
    expect(lines(changes(screen))).toEqual(['anon:a event Screen Viewed {"name":"Checkout"}']);
  });

  it('publishes only the tags a change really sets or removes, with who did it', () => {
    const { apply, ws, profile } = fresh();
    apply(upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'x'));
    const source = (n: number) => ({
      sourceId: `api:r${n}`,
      occurredAt: 1_000 + n,
      recordedAt: 1_000 + n,
      actor: 'ann',
    });
    const stamp = (n: number) => ({ t: 1_000 + n, m: `api:r${n}` });
    const set = ws.changeTags(profile('user:u1'), ['vip', 'beta'], true, stamp(1), source(1));
    expect(lines(set)).toEqual(['user:u1 tags +[vip,beta] -[]']);
    expect(set[0]?.actor).toBe('ann');
    expect(ws.changeTags(profile('user:u1'), ['vip'], true, stamp(2), source(2))).toEqual([]);
    expect(
      lines(ws.changeTags(profile('user:u1'), ['vip', 'gone'], false, stamp(3), source(3))),
    ).toEqual(['user:u1 tags +[] -[vip]']);
    expect(tagsOf(profile('user:u1'))).toEqual(['beta']);
  });

  it('forgets an erased profile, and a later event for its user starts a new incarnation', () => {
    const { apply, ws, profile, changes } = fresh();
    apply(upstream.track({ anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'x'));
    apply(
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:00:00Z', {
        plan: 'pro',
      }),
    );
    const before = profile('user:u1');
    const erased = ws.erase(before, {
      sourceId: 'api:e',
      occurredAt: 1,
      recordedAt: 1,
      actor: 'dpo',
    });
    expect(lines(erased)).toEqual(['user:u1 erased', 'anon:a1 erased']);
    expect(ws.live('user:u1')).toBeUndefined();
    expect(ws.identities.has('anon:a1')).toBe(false);

    const again = changes(apply(upstream.track({ userId: 'u1' }, '2026-11-03T00:00:00Z', 'back')));
    expect(profile('user:u1').traits.size).toBe(0);
    expect(again[0]?.incarnation).not.toBe(before.incarnation);
  });
});
