import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  type DestinationConfig,
  IdentityKind,
  ProfileSchema,
  MembershipTransitionSchema,
  RefreshProgressSchema,
  RefreshState,
  SyncMode,
  SyncRunStatus,
  TransitionKind,
  Visibility,
} from '@shoal/contracts';
import { DomainError, type Principal } from '@shoal/platform';
import { refusalOf } from '@shoal/testing';
import { newDestinationsTest } from '../../test/destinations-test-module';
import { DeliveryFailure } from './destination-kind';
import { DestinationsService } from './destinations.service';
import { SyncService } from './sync.service';

const ann: Principal = { subject: 'ann', groups: [], kind: 'user' };
const eve: Principal = { subject: 'eve', groups: [], kind: 'user' };
const SECRET = 'a-signing-secret-of-some-length';

const webhook = (value: Record<string, unknown>) =>
  ({ kind: { case: 'webhook', value } }) as unknown as DestinationConfig;

async function setup() {
  const { test, repository, queue, runs, states, kind, usages, secrets, profiles, members } =
    await newDestinationsTest(DestinationsService, {
      segments: [
        { id: 'seg_shared', visibility: Visibility.SHARED },
        { id: 'seg_private', visibility: Visibility.PRIVATE },
      ],
      resolve: (host) =>
        host === 'internal.example.com'
          ? [{ address: '10.1.2.3', family: 4 }]
          : [{ address: '93.184.216.34', family: 4 }],
    });
  const sync = test.get<SyncService>(SyncService);
  /** ann's webhook to a public host with a valid secret; `config` adds or overrides fields. */
  const createWebhook = (config: Record<string, unknown> = {}) =>
    test.sut.create({
      name: 'hook',
      config: webhook({ url: 'https://example.com/h', signingSecret: SECRET, ...config }),
      principal: ann,
    });
  /** ann links seg_shared to a destination: incremental and auto-syncing unless `link` says so. */
  const linkShared = (id: string, link: Partial<Parameters<DestinationsService['link']>[0]> = {}) =>
    test.sut.link({
      id,
      segmentId: 'seg_shared',
      mode: SyncMode.INCREMENTAL,
      autoSync: true,
      principal: ann,
      ...link,
    });
  const setAutoSync = (id: string, autoSync: boolean) =>
    test.sut.setAutoSync({ id, segmentId: 'seg_shared', autoSync, principal: ann });
  /** One pass of the sync loop over a destination's queue. */
  const drain = (id: string) =>
    sync.drain(repository.stored.get(id)!, new AbortController().signal);
  return {
    ...test,
    createWebhook,
    linkShared,
    setAutoSync,
    drain,
    repository,
    queue,
    runs,
    states,
    members,
    profiles,
    kind,
    usages,
    secrets,
    sync,
  };
}

describe('DestinationsService', () => {
  it('validates a webhook configuration on save, naming each bad field', async () => {
    const { createWebhook } = await setup();
    const refusal = await refusalOf(
      createWebhook({ url: 'ftp://x', signingSecret: 'short', batchSize: 20_000 }),
      DomainError,
    );
    expect(refusal.violations.map((v) => v.field)).toEqual([
      'config.webhook.url',
      'config.webhook.signingSecret',
      'config.webhook.batchSize',
    ]);
  });

  it('refuses a webhook whose host resolves to a private address', async () => {
    const { createWebhook } = await setup();
    const refusal = await refusalOf(
      createWebhook({ url: 'https://internal.example.com/h' }),
      DomainError,
    );
    expect(refusal.violations).toMatchObject([
      { field: 'config.webhook.url', description: expect.stringContaining('10.1.2.3') },
    ]);
  });

  it('never shows the signing secret, and registers it for masking', async () => {
    const { sut, secrets, createWebhook } = await setup();
    const created = await createWebhook();
    const view = await sut.view(created);
    expect(JSON.stringify(view.config?.kind.value)).not.toContain(SECRET);
    expect(view.config?.kind.value).toMatchObject({ signingSecretSet: true });
    expect(secrets).toContain(SECRET);
  });

  it('masks a credential carried in the webhook URL', async () => {
    const { secrets, createWebhook } = await setup();
    await createWebhook({ url: 'https://example.com/h?api_key=k3y-in-the-url' });
    expect(secrets).toContain('k3y-in-the-url');
  });

  it('keeps the stored secret when an update leaves it empty', async () => {
    const { sut, repository, createWebhook } = await setup();
    const created = await createWebhook();
    await sut.update({
      id: created.id,
      expectedVersion: 1n,
      name: 'renamed',
      config: webhook({ url: 'https://example.com/other' }),
      principal: ann,
    });
    expect(repository.stored.get(created.id)?.config?.kind.value).toMatchObject({
      url: 'https://example.com/other',
      signingSecret: SECRET,
    });
  });

  it('is NOT_FOUND to anyone but its owner', async () => {
    const { sut, createWebhook } = await setup();
    const created = await createWebhook();
    const refusal = await refusalOf(sut.get(created.id, eve), DomainError);
    expect(refusal.reason).toBe('DESTINATION_NOT_FOUND');
  });

  it('links only shared segments, and records the lock with the segments service', async () => {
    const { sut, usages, createWebhook, linkShared, setAutoSync } = await setup();
    const created = await createWebhook();
    const refusal = await refusalOf(
      sut.link({
        id: created.id,
        segmentId: 'seg_private',
        mode: SyncMode.UNSPECIFIED,
        autoSync: true,
        principal: ann,
      }),
      DomainError,
    );
    expect(refusal.reason).toBe('SEGMENT_NOT_SHARED');
    const linked = await linkShared(created.id, { mode: SyncMode.UNSPECIFIED });
    expect(linked.links).toMatchObject([{ segmentId: 'seg_shared', mode: SyncMode.INCREMENTAL }]);
    await setAutoSync(created.id, false);
    await sut.unlink({ id: created.id, segmentId: 'seg_shared', principal: ann });
    expect(usages).toMatchObject([
      { segmentId: 'seg_shared', autoSync: true, inUse: true },
      { segmentId: 'seg_shared', autoSync: false, inUse: true },
      { segmentId: 'seg_shared', autoSync: false, inUse: false },
    ]);
  });
});

describe('SyncService', () => {
  async function linked() {
    const context = await setup();
    const created = await context.createWebhook({ maxAttempts: 3 });
    return { ...context, destination: await context.linkShared(created.id) };
  }

  const transition = (profileId: string, sequence: number, kind = TransitionKind.ENTERED) =>
    create(MembershipTransitionSchema, {
      id: `t-${profileId}-${sequence}`,
      kind,
      segmentId: 'seg_shared',
      profileId,
      sequence: BigInt(sequence),
      occurredAt: timestampFromDate(new Date('2026-12-01T00:00:00Z')),
    });

  it('queues a transition once however often it is consumed', async () => {
    const { sync, queue } = await linked();
    const consumed = { transition: transition('p1', 1), partition: 0, offset: 5 };
    await sync.enqueue([consumed]);
    await sync.enqueue([consumed]);
    expect(queue.queued.size).toBe(1);
  });

  it('keeps queuing while auto-sync is off and delivers the backlog once it is on again', async () => {
    const { sut, sync, kind, queue, states, repository, destination, setAutoSync, drain } =
      await linked();
    await setAutoSync(destination.id, false);
    await sync.enqueue([
      { transition: transition('p1', 1), partition: 0, offset: 1 },
      { transition: transition('p2', 2), partition: 0, offset: 2 },
    ]);
    await drain(destination.id);
    expect(kind.delivered).toEqual([]);
    expect(queue.queued.size).toBe(2);
    expect(await states.get(destination.id, 'seg_shared')).toMatchObject({ pausedBacklog: 2 });

    await setAutoSync(destination.id, true);
    await drain(destination.id);
    expect(kind.delivered.flatMap((b) => b.records.map((r) => r.eventId))).toEqual([
      't-p1-1',
      't-p2-2',
    ]);
    expect(await states.get(destination.id, 'seg_shared')).toMatchObject({
      pausedBacklog: 0,
      lastSyncedEventId: 't-p2-2',
      lastSyncedSequence: 2,
      recordsSynced: 2,
    });
    const [view] = (await sut.view(repository.stored.get(destination.id)!)).links;
    expect(view?.syncState).toMatchObject({ lastSyncedEventId: 't-p2-2', recordsSynced: 2n });
  });

  it('catches up with a full sync when the paused backlog outgrew its bound', async () => {
    const { sync, kind, queue, states, members, destination, setAutoSync, drain } = await linked();
    await setAutoSync(destination.id, false);
    members.push('p2', 'p4');
    // the bound is 3: the fourth record drops the backlog, and nothing is queued after it
    for (let i = 1; i <= 5; i++)
      await sync.enqueue([{ transition: transition(`p${i}`, i), partition: 0, offset: i }]);
    expect(queue.queued.size).toBe(0);
    expect(await states.get(destination.id, 'seg_shared')).toMatchObject({
      fullSyncRequired: true,
    });

    await setAutoSync(destination.id, true);
    await sync.enqueue([{ transition: transition('p6', 6), partition: 0, offset: 6 }]);
    await drain(destination.id);
    expect(kind.delivered.map((b) => [b.full, b.records.map((r) => r.profileId)])).toEqual([
      [true, ['p2', 'p4']],
      [false, ['p6']],
    ]);
    expect(await states.get(destination.id, 'seg_shared')).toMatchObject({
      fullSyncRequired: false,
    });
  });

  it("sends each record with the profile's user ids, emails and the link's traits", async () => {
    const { sync, kind, profiles, createWebhook, linkShared, drain } = await setup();
    profiles.set(
      'p1',
      create(ProfileSchema, {
        id: 'p1',
        identities: [
          { kind: IdentityKind.USER_ID, value: 'u-1' },
          { kind: IdentityKind.ANONYMOUS_ID, value: 'a-1' },
          { kind: IdentityKind.TRAIT, trait: 'email', value: 'ann@example.com' },
          { kind: IdentityKind.TRAIT, trait: 'phone', value: '+331234' },
        ],
        traits: { plan: 'pro', address: { city: 'Lyon', zip: '69001' }, score: 7 },
      }),
    );
    const created = await createWebhook();
    await linkShared(created.id, { traits: ['plan', 'address.city', 'missing'] });
    await sync.enqueue([
      { transition: transition('p1', 1), partition: 0, offset: 1 },
      { transition: transition('p-erased', 2), partition: 0, offset: 2 },
    ]);
    await drain(created.id);
    expect(kind.delivered.flatMap((b) => b.records)).toMatchObject([
      {
        profileId: 'p1',
        identities: { userIds: ['u-1'], emails: ['ann@example.com'] },
        traits: { plan: 'pro', 'address.city': 'Lyon' },
      },
      { profileId: 'p-erased', identities: { userIds: [], emails: [] }, traits: {} },
    ]);
    expect(kind.delivered[0]?.records[0]?.traits).not.toHaveProperty('missing');
  });

  it('refuses a link trait that is not a dotted path', async () => {
    const { createWebhook, linkShared } = await setup();
    const created = await createWebhook();
    const refusal = await refusalOf(
      linkShared(created.id, { traits: ['plan', 'address..city', ''] }),
      DomainError,
    );
    expect(refusal.violations.map((v) => v.field)).toEqual(['traits[1]', 'traits[2]']);
  });

  it('delivers in topic order per partition and empties the queue', async () => {
    const { sync, kind, queue, destination, drain } = await linked();
    await sync.enqueue([
      { transition: transition('p1', 2, TransitionKind.EXITED), partition: 0, offset: 9 },
      { transition: transition('p1', 1), partition: 0, offset: 3 },
    ]);
    await drain(destination.id);
    expect(kind.delivered.flatMap((b) => b.records.map((r) => r.type))).toEqual([
      'entered',
      'exited',
    ]);
    expect(queue.queued.size).toBe(0);
  });

  it('dead-letters a batch after its attempt budget and records the run as failed', async () => {
    const { sync, kind, queue, runs, destination, drain } = await linked();
    kind.outcomes = [
      new DeliveryFailure('HTTP 500'),
      new DeliveryFailure('HTTP 500'),
      new DeliveryFailure('HTTP 502'),
    ];
    await sync.enqueue([{ transition: transition('p1', 1), partition: 0, offset: 1 }]);
    await drain(destination.id);
    expect(runs.letters).toMatchObject([{ attempts: 3, error: 'HTTP 502', records: 1n }]);
    expect([...runs.saved.values()]).toMatchObject([
      { status: SyncRunStatus.FAILED, failures: 3n, records: 0n },
    ]);
    expect(queue.queued.size).toBe(0);
  });

  it('does not retry a permanent refusal', async () => {
    const { sync, kind, runs, destination, drain } = await linked();
    kind.outcomes = [new DeliveryFailure('HTTP 400', { permanent: true })];
    await sync.enqueue([{ transition: transition('p1', 1), partition: 0, offset: 1 }]);
    await drain(destination.id);
    expect(runs.letters).toMatchObject([{ attempts: 1, error: 'HTTP 400' }]);
  });

  it("makes a full link's schedule due once per slot, in its time zone, on the injected clock", async () => {
    const { sut, sync, clock, createWebhook, linkShared } = await setup();
    const created = await createWebhook();
    // linked at 2026-12-01T00:00Z; 06:00 in Paris is 05:00Z in winter
    const destination = await linkShared(created.id, {
      mode: SyncMode.FULL,
      schedule: '0 6 * * *',
      timeZone: 'Europe/Paris',
    });
    const view = await sut.view(destination);
    expect(view.links[0]?.syncState?.nextScheduledSyncAt).toEqual(
      timestampFromDate(new Date('2026-12-01T05:00:00Z')),
    );
    clock.advance(4 * 3_600_000 + 59 * 60_000);
    expect(await sync.dueScheduled(destination)).toEqual([]);
    clock.advance(60_000);
    expect(await sync.dueScheduled(destination)).toEqual(['seg_shared']);
    expect(await sync.dueScheduled(destination)).toEqual([]);
    // three days without a look: the missed slots make one run
    clock.advance(3 * 86_400_000);
    expect(await sync.dueScheduled(destination)).toEqual(['seg_shared']);
    expect(await sync.dueScheduled(destination)).toEqual([]);
  });

  it('refuses a schedule on an incremental link, and a bad cron or time zone', async () => {
    const { createWebhook, linkShared } = await setup();
    const created = await createWebhook();
    const link = (mode: SyncMode, schedule: string, timeZone = '') =>
      refusalOf(linkShared(created.id, { mode, schedule, timeZone }), DomainError);
    expect((await link(SyncMode.INCREMENTAL, '0 6 * * *')).violations.map((v) => v.field)).toEqual([
      'schedule',
    ]);
    expect(
      (await link(SyncMode.FULL, '0 61 * *', 'Mars/Olympus')).violations.map((v) => v.field),
    ).toEqual(['timeZone', 'schedule']);
  });

  it('makes a full sync due once, after the last partition of a refresh succeeded', async () => {
    const { sync, createWebhook, linkShared } = await setup();
    const created = await createWebhook();
    await linkShared(created.id, { mode: SyncMode.FULL });
    const progress = (partition: number, state = RefreshState.SUCCEEDED) =>
      create(RefreshProgressSchema, {
        jobId: 'job-1',
        segmentId: 'seg_shared',
        partition,
        partitionCount: 2,
        state,
      });
    expect(await sync.dueAfterRefresh(progress(0, RefreshState.RUNNING))).toEqual([]);
    expect(await sync.dueAfterRefresh(progress(0))).toEqual([]);
    expect((await sync.dueAfterRefresh(progress(1))).map((d) => d.id)).toEqual([created.id]);
    expect(await sync.dueAfterRefresh(progress(1))).toEqual([]);
  });
});
