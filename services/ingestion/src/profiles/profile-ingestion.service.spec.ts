import { toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import type { ProfileChange } from '@shoal/contracts';
import { upstream } from '../../test/support/upstream-events';
import { testIngestion, testStore } from '../../test/support/test-ingestion';
import { tagsOf } from './profile-state';

const kinds = (changes: readonly ProfileChange[]) =>
  changes.map((c) => `${c.subjectId} ${c.change.case}`);

/** Whether a promise has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('profile ingestion', () => {
  it('publishes a batch’s changes at once and makes it durable only when a checkpoint has written it', async () => {
    const { service, store, ingest } = testIngestion();
    const { durable } = await ingest([
      upstream.identify({ userId: 'u1' }, '2026-11-01T00:00:00Z', { plan: 'pro' }),
    ]);
    expect(kinds(store.topic.published)).toEqual([
      'user:u1 identityAdded',
      'user:u1 traitsChanged',
    ]);
    expect(store.profiles.documents.size).toBe(0);
    expect(await settled(durable)).toBe(false);

    await service.checkpoint();
    expect(await settled(durable)).toBe(true);
    expect(store.profiles.documents.get('user:u1')?.traits.get('plan')?.v).toBe('pro');
    expect(store.identities.owners.get('user:u1')).toBe('user:u1');
  });

  it('writes each changed profile once per checkpoint, however many records touched it', async () => {
    const { service, store, ingest } = testIngestion();
    const events = Array.from({ length: 50 }, (_, i) =>
      upstream.track({ userId: `u${i % 5}` }, '2026-11-01T00:00:00Z', 'Viewed'),
    );
    await ingest(events);
    await service.checkpoint();
    expect(store.profiles.written.sort()).toEqual([
      'user:u0',
      'user:u1',
      'user:u2',
      'user:u3',
      'user:u4',
    ]);
  });

  it('reads nothing from the store for profiles it already holds', async () => {
    const { store, ingest, service } = testIngestion();
    await ingest([
      upstream.track({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'x'),
    ]);
    await service.checkpoint();
    const before = {
      claimed: store.identities.claimed.length,
      loaded: store.profiles.loaded.length,
    };
    await ingest([
      upstream.track({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:01:00Z', 'y'),
    ]);
    expect(store.identities.claimed.length).toBe(before.claimed);
    expect(store.profiles.loaded.length).toBe(before.loaded);
  });

  it('claims a new identifier without reading it first, and reads a profile only when its identifier was known', async () => {
    const store = testStore();
    const first = testIngestion(store);
    await first.ingest([
      upstream.identify({ userId: 'u1' }, '2026-11-01T00:00:00Z', { plan: 'pro' }),
    ]);
    await first.service.checkpoint();
    expect(store.profiles.loaded).toEqual([]);

    const second = testIngestion(store);
    await second.ingest([upstream.track({ userId: 'u1' }, '2026-11-02T00:00:00Z', 'Bought')]);
    expect(store.profiles.loaded).toEqual(['user:u1']);
    expect(kinds(store.topic.published).slice(-1)).toEqual(['user:u1 eventRecorded']);
  });

  it('after a crash, replays the records since the last commit with the change ids they had', async () => {
    const store = testStore();
    const before = testIngestion(store);
    const batch1 = [
      upstream.track({ anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'Viewed'),
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:01:00Z', {
        plan: 'pro',
      }),
    ];
    const batch2 = [
      upstream.identify({ userId: 'u1' }, '2026-11-01T00:02:00Z', { plan: 'max' }),
      upstream.track({ anonymousId: 'a1' }, '2026-11-01T00:03:00Z', 'Bought'),
    ];
    const origins1 = ['0:0', '0:1'];
    const origins2 = ['0:2', '0:3'];
    await before.ingest(batch1, origins1);
    await before.service.checkpoint();
    await before.ingest(batch2, origins2);
    // the process dies here: batch 2 was published, its checkpoint never happened
    const published = new Set(store.topic.published.map((c) => c.id));
    const count = store.topic.published.length;

    const after = testIngestion(store);
    await after.ingest(batch1, origins1);
    await after.ingest(batch2, origins2);
    const again = store.topic.published.slice(count);
    expect(again.length).toBeGreaterThan(0);
    expect(again.filter((c) => !published.has(c.id))).toEqual([]);
    await after.service.checkpoint();
    const profile = store.profiles.documents.get('user:u1');
    expect(profile?.traits.get('plan')?.v).toBe('max');
    expect(store.profiles.documents.has('anon:a1')).toBe(false);
  });

  it('publishes nothing for a duplicate messageId, even after a restart', async () => {
    const store = testStore();
    const first = testIngestion(store);
    await first.ingest([
      upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'Bought', {}, 'm-1'),
    ]);
    await first.service.checkpoint();
    const count = store.topic.published.length;
    await first.ingest([
      upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'Bought', {}, 'm-1'),
    ]);
    const second = testIngestion(store);
    await second.ingest(
      [upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'Bought', {}, 'm-1')],
      ['5:9'],
    );
    expect(store.topic.published.length).toBe(count);
  });

  it('keeps changes whose publication failed and sends them first, in order, next time', async () => {
    const { store, ingest } = testIngestion();
    store.topic.failNext = 1;
    const batch = [upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'First')];
    await expect(ingest(batch, ['0:0'])).rejects.toThrow('broker unavailable');
    await ingest(batch, ['0:0']);
    await ingest([upstream.track({ userId: 'u1' }, '2026-11-01T00:01:00Z', 'Second')], ['0:1']);
    const events = store.topic.published
      .filter((c) => c.change.case === 'eventRecorded')
      .map((c) => (c.change.case === 'eventRecorded' ? c.change.value.name : ''));
    expect(events[0]).toBe('First');
    expect(events[events.length - 1]).toBe('Second');
    expect(new Set(events.slice(0, -1))).toEqual(new Set(['First']));
  });

  it('keeps a batch not durable while checkpoints fail, and makes it durable with the next that succeeds', async () => {
    const { service, store, ingest } = testIngestion();
    const { durable } = await ingest([
      upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'x'),
    ]);
    store.profiles.failWrites = true;
    await expect(service.checkpoint()).rejects.toThrow('store unavailable');
    expect(await settled(durable)).toBe(false);
    store.profiles.failWrites = false;
    await service.checkpoint();
    expect(await settled(durable)).toBe(true);
    expect(store.profiles.documents.has('user:u1')).toBe(true);
  });

  it('writes nothing for an anonymous profile merged away before a checkpoint wrote it', async () => {
    const { service, store, ingest } = testIngestion();
    await ingest([
      upstream.page({ anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'Home'),
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:01:00Z', {}),
    ]);
    await service.checkpoint();
    expect(store.profiles.written).toEqual(['user:u1']);
    expect(store.profiles.deleted).toEqual([]);
    expect(store.identities.owners.get('anon:a1')).toBe('user:u1');
  });

  it('deletes an anonymous profile merged away after a checkpoint wrote it', async () => {
    const { service, store, ingest } = testIngestion();
    await ingest([upstream.page({ anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'Home')]);
    await service.checkpoint();
    await ingest([
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:01:00Z', {}),
    ]);
    await service.checkpoint();
    expect(store.profiles.deleted).toEqual(['anon:a1']);
    expect([...store.profiles.documents.keys()]).toEqual(['user:u1']);
  });

  it('writes a checkpoint in bounded store commands and retries only the one that timed out', async () => {
    const { service, store, ingest } = testIngestion(undefined, { writesPerCommand: 2 });
    const { durable } = await ingest(
      ['u0', 'u1', 'u2', 'u3', 'u4'].map((userId) =>
        upstream.track({ userId }, '2026-11-01T00:00:00Z', 'x'),
      ),
    );
    store.profiles.commands.length = 0;
    const write = store.profiles.write.bind(store.profiles);
    let timedOut = false;
    store.profiles.write = async (writes) => {
      // the second command times out once
      if (store.profiles.commands.length === 1 && !timedOut) {
        timedOut = true;
        store.profiles.timeouts = 1;
      }
      return write(writes);
    };

    await service.checkpoint();
    expect(store.profiles.commands).toEqual([
      ['user:u0', 'user:u1'],
      ['user:u2', 'user:u3'],
      ['user:u4'],
    ]);
    expect(await settled(durable)).toBe(true);
  });

  it('hands a batch back unapplied, to be retried, when checkpoints stay behind longer than a batch may wait', async () => {
    const { store, ingest } = testIngestion(undefined, {
      maxPendingProfiles: 1,
      checkpointIntervalMs: 10,
      backpressureWaitMs: 100,
    });
    await ingest([upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'x')]);
    store.profiles.failWrites = true;
    const published = store.topic.published.length;

    const retried = ingest([upstream.track({ userId: 'u2' }, '2026-11-01T00:00:00Z', 'y')]);
    await expect(retried).rejects.toMatchObject({
      reason: 'CHECKPOINTS_BEHIND',
      transient: true,
    });
    expect(store.topic.published.length).toBe(published);
  });

  it('counts the records of batches still loading against the limit of profiles waiting for checkpoints', async () => {
    const { store, ingest } = testIngestion(undefined, {
      maxPendingProfiles: 2,
      backpressureWaitMs: 100,
    });
    let release = () => {};
    const claim = store.identities.claim.bind(store.identities);
    store.identities.claim = async (claims) => {
      await new Promise<void>((resolve) => (release = resolve));
      return claim(claims);
    };
    const loading = ingest([
      upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'x'),
      upstream.track({ userId: 'u2' }, '2026-11-01T00:00:00Z', 'x'),
    ]);

    await expect(
      ingest([upstream.track({ userId: 'u3' }, '2026-11-01T00:00:00Z', 'y')]),
    ).rejects.toMatchObject({ reason: 'CHECKPOINTS_BEHIND' });
    release();
    await loading;
    expect(store.identities.claimed).toEqual(['user:u1', 'user:u2']);
  });

  it('dead-letters a record past the identity limit and applies the rest of its batch', async () => {
    const { ingest, store } = testIngestion(undefined, { maxIdentities: 2 });
    const { refused } = await ingest([
      upstream.track({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'x'),
      upstream.track({ userId: 'u1', anonymousId: 'a2' }, '2026-11-01T00:01:00Z', 'y'),
      upstream.track({ userId: 'u2' }, '2026-11-01T00:02:00Z', 'z'),
    ]);
    expect(refused).toEqual([
      {
        index: 1,
        reason: 'IDENTITY_LIMIT',
        error: 'it would give one profile 3 identifiers; INGEST_MAX_IDENTITIES allows 2',
      },
    ]);
    expect(kinds(store.topic.published).filter((k) => k.endsWith('eventRecorded'))).toEqual([
      'user:u1 eventRecorded',
      'user:u2 eventRecorded',
    ]);
  });

  it('sets and removes tags with the caller as actor, written before it answers', async () => {
    const { service, store, ingest } = testIngestion();
    await ingest([upstream.track({ userId: 'u1' }, '2026-11-01T00:00:00Z', 'x')]);
    await service.changeTags('user:u1', ['vip', 'beta'], true, { actor: 'ann', requestId: 'r1' });
    expect(tagsOf(store.profiles.documents.get('user:u1')!)).toEqual(['beta', 'vip']);
    const removed = await service.changeTags('user:u1', ['vip'], false, { actor: 'bob' });
    expect(tagsOf(removed)).toEqual(['beta']);
    const tagChanges = store.topic.published.filter((c) => c.change.case === 'tagsChanged');
    expect(tagChanges.map((c) => [c.actor, c.sourceId.startsWith('api:'), c.change.value])).toEqual(
      [
        ['ann', true, expect.objectContaining({ added: ['vip', 'beta'], removed: [] })],
        ['bob', true, expect.objectContaining({ added: [], removed: ['vip'] })],
      ],
    );
    expect(tagsOf(store.profiles.documents.get('user:u1')!)).toEqual(['beta']);
  });

  it('erases a profile with what it absorbed, and a later event for its user starts a new incarnation', async () => {
    const { service, store, ingest } = testIngestion();
    await ingest([
      upstream.track({ anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'x'),
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:01:00Z', {
        email: 'u1@example.com',
      }),
    ]);
    await service.checkpoint();
    const erased = await service.erase('user:u1', { actor: 'dpo', requestId: 'gdpr-7' });
    expect([...erased.absorbed]).toEqual(['anon:a1']);
    expect(kinds(store.topic.published).slice(-2)).toEqual([
      'user:u1 profileErased',
      'anon:a1 profileErased',
    ]);
    expect(store.topic.published.slice(-1)[0]?.actor).toBe('dpo');
    expect([...store.profiles.documents.keys()]).toEqual([]);
    expect([...store.identities.owners.keys()]).toEqual([]);

    await ingest([upstream.track({ anonymousId: 'a1' }, '2026-11-03T00:00:00Z', 'back')]);
    const reborn = store.topic.published.slice(-1)[0];
    expect(reborn?.subjectId).toBe('anon:a1');
    expect(reborn?.incarnation).not.toBe(erased.incarnation);
    await service.checkpoint();
    expect(store.profiles.documents.get('anon:a1')?.identities.size).toBe(1);
  });

  it('erases the identifiers of what a profile absorbed even before a checkpoint moved them', async () => {
    const { service, store, ingest } = testIngestion();
    await ingest([upstream.track({ anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'x')]);
    await service.checkpoint();
    await ingest([
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:01:00Z', {}),
    ]);
    await service.erase('user:u1', { actor: 'dpo' });
    await service.checkpoint();
    expect([...store.identities.owners]).toEqual([]);
    expect([...store.profiles.documents.keys()]).toEqual([]);
  });

  it('keeps what two instances wrote to one profile at the same time', async () => {
    const store = testStore();
    const one = testIngestion(store);
    const two = testIngestion(store);
    await one.ingest([
      upstream.identify({ userId: 'u1' }, '2026-11-01T00:00:00Z', { plan: 'pro' }),
    ]);
    await two.ingest([
      upstream.identify({ userId: 'u1', anonymousId: 'a9' }, '2026-11-02T00:00:00Z', {
        city: 'Oslo',
      }),
    ]);
    await one.service.checkpoint();
    await two.service.checkpoint();
    const stored = store.profiles.documents.get('user:u1')!;
    expect(Object.fromEntries([...stored.traits].map(([k, e]) => [k, e.v]))).toEqual({
      plan: 'pro',
      city: 'Oslo',
    });
    expect([...stored.identities.keys()].sort()).toEqual(['anon:a9', 'user:u1']);
  });

  it('moves what it added to a profile another instance merged away meanwhile to the survivor', async () => {
    const store = testStore();
    const one = testIngestion(store);
    const two = testIngestion(store);
    await one.ingest([upstream.track({ anonymousId: 'a1' }, '2026-11-01T00:00:00Z', 'Viewed')]);
    await one.service.checkpoint();
    await two.ingest([upstream.track({ anonymousId: 'a1' }, '2026-11-01T00:01:00Z', 'Viewed')]);
    await two.service.checkpoint();
    // instance one merges anon:a1 into the new user profile
    await one.ingest([
      upstream.identify({ userId: 'u1', anonymousId: 'a1' }, '2026-11-01T00:02:00Z', {}),
    ]);
    await one.service.checkpoint();
    // instance two still holds anon:a1 and adds to it
    await two.ingest([
      upstream.identify({ anonymousId: 'a1' }, '2026-11-01T00:03:00Z', { plan: 'late' }),
    ]);
    await two.service.checkpoint();

    expect(store.profiles.documents.has('anon:a1')).toBe(false);
    expect(store.profiles.documents.get('user:u1')?.traits.get('plan')?.v).toBe('late');
    const merges = store.topic.published.filter((c) => c.change.case === 'profilesMerged');
    expect(merges.map((c) => c.subjectId)).toEqual(['user:u1', 'anon:a1', 'user:u1', 'anon:a1']);
    const late = store.topic.published.filter(
      (c) => c.subjectId === 'user:u1' && c.change.case === 'traitsChanged',
    );
    expect(
      late.flatMap((c) =>
        c.change.case === 'traitsChanged'
          ? c.change.value.changes.map(
              (t) => `${t.key}=${JSON.stringify(toJson(ValueSchema, t.value!))}`,
            )
          : [],
      ),
    ).toEqual(['plan="late"']);
  });

  it('lets two instances that see a new anonymous id at once agree on its profile', async () => {
    const store = testStore();
    const one = testIngestion(store);
    const two = testIngestion(store);
    await Promise.all([
      one.ingest([upstream.track({ anonymousId: 'new' }, '2026-11-01T00:00:00Z', 'a')]),
      two.ingest([upstream.track({ anonymousId: 'new' }, '2026-11-01T00:00:01Z', 'b')]),
    ]);
    await one.service.checkpoint();
    await two.service.checkpoint();
    expect([...store.profiles.documents.keys()]).toEqual(['anon:new']);
    expect(store.profiles.documents.get('anon:new')?.seen.size).toBeGreaterThan(0);
  });
});
