import { create, toBinary, toJson } from '@bufbuild/protobuf';
import { ValueSchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import {
  ContentTypes,
  EventKind,
  IdentityKind,
  KafkaHeaders,
  type ProfileChange,
  ProfileService,
  UpstreamEventSchema,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { type GrpcClient, GrpcCallError, type RunningService } from '@shoal/platform';
import { TestScope, eventually } from '@shoal/testing';
import type { Message } from 'kafkajs';
import { ingestionService } from '../src/service';
import { ChangeFeed } from './support/change-feed';

const json = (key: string, event: Record<string, unknown>): Message => ({
  key,
  value: JSON.stringify(event),
});

const protobuf = (key: string, init: Parameters<typeof create<typeof UpstreamEventSchema>>[1]) => ({
  key,
  value: Buffer.from(toBinary(UpstreamEventSchema, create(UpstreamEventSchema, init))),
  headers: { [KafkaHeaders.contentType]: ContentTypes.protobuf },
});

const at = (iso: string) => timestampFromDate(new Date(iso));

/** What a change says, in a line. */
function line(change: ProfileChange): string {
  const c = change.change;
  switch (c.case) {
    case 'eventRecorded':
      return `event ${c.value.name} ${EventKind[c.value.kind]}`;
    case 'traitsChanged':
    case 'accountTraitsChanged':
      return `${c.case} ${c.value.changes
        .map((t) => `${t.key}=${JSON.stringify(toJson(ValueSchema, t.value!))}`)
        .join(',')}`;
    case 'identityAdded':
      return `identity ${IdentityKind[c.value.identity!.kind]}:${c.value.identity!.value}`;
    case 'profilesMerged':
      return `merged [${c.value.absorbedProfileIds}] into ${c.value.survivorProfileId}`;
    case 'tagsChanged':
      return `tags +[${c.value.added}] -[${c.value.removed}] by ${change.actor}`;
    case 'accountJoined':
      return `joined ${change.accountId}`;
    default:
      return c.case ?? 'nothing';
  }
}

describe('ingestion publishes what it records on shoal.profiles.changes', () => {
  const scope = new TestScope();
  let ingestion: RunningService;
  let feed: ChangeFeed;
  let profiles: GrpcClient<typeof ProfileService>;
  const deadLetters = async (count: number) =>
    (await scope.readTopic(upstreamEventsDeadLetterTopic, count, 60_000)).map((m) => ({
      key: m.key?.toString(),
      reason: m.headers?.[KafkaHeaders.deadLetterReason]?.toString(),
      error: m.headers?.[KafkaHeaders.deadLetterError]?.toString(),
    }));

  beforeAll(async () => {
    ingestion = await scope.start(ingestionService, {
      INGEST_MAX_IDENTITIES: '3',
      INGEST_CHECKPOINT_INTERVAL_MS: '200',
      PROFILE_WRITER_GROUPS: 'crm',
      PROFILE_ADMIN_GROUPS: 'dpo',
      PROFILE_READER_GROUPS: 'support',
    });
    feed = await new ChangeFeed(scope).start();
    profiles = scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'service:membership', service: 'membership' }),
    );
  });
  afterAll(async () => {
    await feed.stop();
    await scope.close();
  });

  it('records JSON and protobuf events, page and screen calls, with ids derived from their sources', async () => {
    await scope.produce(upstreamEventsTopic, [
      json('j-1', {
        type: 'track',
        messageId: 'jt-1',
        userId: 'j-1',
        event: 'Order Completed',
        properties: { total: 840 },
        timestamp: '2026-11-20T09:00:00Z',
      }),
      json('j-1', { type: 'page', messageId: 'jp-1', userId: 'j-1', name: 'Pricing' }),
      protobuf('p-1', {
        messageId: 'ps-1',
        anonymousId: 'p-1',
        timestamp: at('2026-11-20T09:00:00Z'),
        payload: { case: 'screen', value: { name: 'Checkout' } },
      }),
    ]);
    await feed.until((f) => {
      expect(f.of('user:j-1').map(line)).toEqual([
        'identity USER_ID:j-1',
        'event Order Completed TRACK',
        'event Page Viewed PAGE',
      ]);
      expect(f.of('anon:p-1').map(line)).toEqual([
        'identity ANONYMOUS_ID:p-1',
        'event Screen Viewed SCREEN',
      ]);
    });
    const [, order] = feed.of('user:j-1');
    expect(order?.sourceId).toBe('jt-1');
    expect(order?.occurredAt?.seconds).toBe(BigInt(Date.parse('2026-11-20T09:00:00Z') / 1000));
    expect(new Set(feed.changes.map((c) => c.id)).size).toBe(feed.changes.length);
  });

  it('dead-letters each kind of bad input with its reason while good records flow', async () => {
    await scope.produce(upstreamEventsTopic, [
      { key: 'bad-json', value: '{"type": "track", "messageId": ' },
      { key: 'bad-empty', value: '' },
      {
        key: 'bad-proto',
        value: Buffer.from([0xff, 0xfe, 0xfd]),
        headers: { [KafkaHeaders.contentType]: ContentTypes.protobuf },
      },
      json('bad-identity', { type: 'track', messageId: 'b-1', event: 'x' }),
      json('bad-future', {
        type: 'track',
        messageId: 'b-2',
        userId: 'f',
        event: 'x',
        timestamp: '2999-01-01T00:00:00Z',
      }),
      json('bad-reserved', {
        type: 'identify',
        messageId: 'b-3',
        userId: 'r',
        traits: { profileId: 'x' },
      }),
      json('bad-name', { type: 'identify', messageId: 'b-4', userId: 'n', traits: { 'a.b': 1 } }),
      json('good', { type: 'identify', messageId: 'g-1', userId: 'good', traits: { ok: true } }),
    ]);
    const letters = await deadLetters(7);
    expect(letters.map((l) => [l.key, l.reason])).toEqual(
      expect.arrayContaining([
        ['bad-json', 'INVALID_JSON'],
        ['bad-empty', 'EMPTY_VALUE'],
        ['bad-proto', 'UNDECODABLE'],
        ['bad-identity', 'INVALID_EVENT'],
        ['bad-future', 'INVALID_EVENT'],
        ['bad-reserved', 'INVALID_EVENT'],
        ['bad-name', 'INVALID_EVENT'],
      ]),
    );
    expect(letters.find((l) => l.key === 'bad-future')?.error).toContain(
      'INGEST_MAX_FUTURE_SECONDS',
    );
    expect(letters.find((l) => l.key === 'bad-reserved')?.error).toBe(
      'traits.profileId: is a reserved trait name (INGEST_RESERVED_TRAITS)',
    );
    await feed.until((f) => expect(f.of('user:good').map(line)).toContain('traitsChanged ok=true'));
  });

  it('dead-letters a merge past the identity limit with its reason, and applies nothing of it', async () => {
    await scope.produce(upstreamEventsTopic, [
      json('limit', {
        type: 'track',
        messageId: 'l-1',
        userId: 'limit',
        anonymousId: 'l-a1',
        event: 'x',
      }),
      json('limit', {
        type: 'track',
        messageId: 'l-2',
        userId: 'limit',
        anonymousId: 'l-a2',
        event: 'x',
      }),
      json('limit', { type: 'track', messageId: 'l-3', anonymousId: 'l-a3', event: 'x' }),
      json('limit', {
        type: 'track',
        messageId: 'l-4',
        userId: 'limit',
        anonymousId: 'l-a3',
        event: 'y',
      }),
    ]);
    await eventually(async () => {
      const letters = await scope.readTopicToEnd(upstreamEventsDeadLetterTopic);
      const limit = letters.find(
        (m) => m.headers?.[KafkaHeaders.deadLetterReason]?.toString() === 'IDENTITY_LIMIT',
      );
      expect(limit?.headers?.[KafkaHeaders.deadLetterError]?.toString()).toBe(
        'merging user:limit, anon:l-a3 would give one profile 4 identifiers; INGEST_MAX_IDENTITIES allows 3',
      );
    });
    const { profile } = await profiles.lookupProfile({
      identity: { kind: IdentityKind.ANONYMOUS_ID, value: 'l-a3' },
    });
    expect(profile?.id).toBe('anon:l-a3');
    expect(feed.changes.some((c) => c.sourceId === 'l-4')).toBe(false);
  });

  it('publishes nothing for a duplicate messageId', async () => {
    const bought = json('dup', {
      type: 'track',
      messageId: 'dup-1',
      userId: 'dup',
      event: 'Bought',
      timestamp: '2026-11-20T09:00:00Z',
    });
    await scope.produce(upstreamEventsTopic, [bought]);
    await feed.until((f) => expect(f.of('user:dup').map(line)).toContain('event Bought TRACK'));
    await scope.produce(upstreamEventsTopic, [
      bought,
      json('dup', { type: 'track', messageId: 'dup-2', userId: 'dup', event: 'After' }),
    ]);
    await feed.until((f) => expect(f.of('user:dup').map(line)).toContain('event After TRACK'));
    expect(
      feed
        .of('user:dup')
        .filter((c) => c.sourceId === 'dup-1')
        .map(line),
    ).toEqual(['identity USER_ID:dup', 'event Bought TRACK']);
  });

  it('gives anonymous events, then an identify with both ids, one profile found by either id, and one merge', async () => {
    await scope.produce(upstreamEventsTopic, [
      json('anon-7', { type: 'page', messageId: 'a-1', anonymousId: 'anon-7', name: 'Home' }),
      json('anon-7', {
        type: 'track',
        messageId: 'a-2',
        anonymousId: 'anon-7',
        event: 'Added to Cart',
      }),
      json('ann', {
        type: 'identify',
        messageId: 'a-3',
        userId: 'ann',
        anonymousId: 'anon-7',
        traits: { plan: 'pro', email: 'ann@example.com' },
      }),
    ]);
    await feed.until((f) =>
      expect(f.of('user:ann').map(line)).toContain(
        'traitsChanged plan="pro",email="ann@example.com"',
      ),
    );
    const byUser = await profiles.lookupProfile({
      identity: { kind: IdentityKind.USER_ID, value: 'ann' },
    });
    const byAnonymous = await profiles.lookupProfile({
      identity: { kind: IdentityKind.ANONYMOUS_ID, value: 'anon-7' },
    });
    const byEmail = await profiles.lookupProfile({
      identity: { kind: IdentityKind.TRAIT, trait: 'email', value: 'ann@example.com' },
    });
    expect([byUser.profile?.id, byAnonymous.profile?.id, byEmail.profile?.id]).toEqual([
      'user:ann',
      'user:ann',
      'user:ann',
    ]);
    expect(byUser.profile?.absorbedProfileIds).toEqual(['anon:anon-7']);
    expect((await profiles.getProfile({ profileId: 'anon:anon-7' })).profile?.id).toBe('user:ann');
    const merges = feed.read.filter((r) => r.change.change.case === 'profilesMerged');
    expect(merges.map((r) => [r.key, line(r.change)])).toEqual([
      ['user:ann', 'merged [anon:anon-7] into user:ann'],
      ['anon:anon-7', 'merged [anon:anon-7] into user:ann'],
    ]);
    // every change of the absorbed profile came before the merge on its partition
    expect(feed.of('anon:anon-7').map(line).slice(-1)).toEqual([
      'merged [anon:anon-7] into user:ann',
    ]);
  });

  it('keeps a newer trait when an older identify arrives later', async () => {
    await scope.produce(upstreamEventsTopic, [
      json('late', {
        type: 'identify',
        messageId: 'o-1',
        userId: 'late',
        traits: { plan: 'enterprise' },
        timestamp: '2026-11-20T10:00:00Z',
      }),
      json('late', {
        type: 'identify',
        messageId: 'o-2',
        userId: 'late',
        traits: { plan: 'free', city: 'Oslo' },
        timestamp: '2026-11-01T10:00:00Z',
      }),
    ]);
    await feed.until((f) =>
      expect(f.of('user:late').map(line)).toEqual([
        'identity USER_ID:late',
        'traitsChanged plan="enterprise"',
        'traitsChanged city="Oslo"',
      ]),
    );
    const { profile } = await profiles.getProfile({ profileId: 'user:late' });
    expect(profile?.traits).toEqual({ plan: 'enterprise', city: 'Oslo' });
  });

  it('round-trips tags through the change stream with the caller as actor', async () => {
    await scope.produce(upstreamEventsTopic, [
      json('tagged', { type: 'track', messageId: 't-1', userId: 'tagged', event: 'x' }),
    ]);
    await eventually(() => profiles.getProfile({ profileId: 'user:tagged' }));
    const crm = scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'sam', groups: ['crm'] }),
    );
    const set = await crm.setProfileTags({ profileId: 'user:tagged', tags: ['vip', 'beta'] });
    expect(set.profile?.tags).toEqual(['beta', 'vip']);
    const removed = await crm.removeProfileTags({ profileId: 'user:tagged', tags: ['vip'] });
    expect(removed.profile?.tags).toEqual(['beta']);
    await feed.until((f) =>
      expect(f.of('user:tagged').map(line).slice(-2)).toEqual([
        'tags +[vip,beta] -[] by sam',
        'tags +[] -[vip] by sam',
      ]),
    );
    const support = scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'zoe', groups: ['support'] }),
    );
    const denied = await support
      .setProfileTags({ profileId: 'user:tagged', tags: ['x'] })
      .catch((e: unknown) => e);
    expect((denied as GrpcCallError).code).toBe(status.PERMISSION_DENIED);
  });

  it('erases a profile with what it absorbed, publishes the erasure, and starts a new profile for a later event', async () => {
    await scope.produce(upstreamEventsTopic, [
      json('gone', { type: 'track', messageId: 'e-1', anonymousId: 'gone-device', event: 'x' }),
      json('gone', {
        type: 'identify',
        messageId: 'e-2',
        userId: 'gone',
        anonymousId: 'gone-device',
        traits: { email: 'gone@example.com' },
      }),
    ]);
    await eventually(() => profiles.getProfile({ profileId: 'user:gone' }));
    const dpo = scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'ada', groups: ['dpo'] }),
    );
    const erased = await dpo.eraseProfile({
      identity: { kind: IdentityKind.USER_ID, value: 'gone' },
    });
    expect(erased).toMatchObject({
      profileId: 'user:gone',
      absorbedProfileIds: ['anon:gone-device'],
    });

    await feed.until((f) => {
      expect(f.of('user:gone').map(line).slice(-1)).toEqual(['profileErased']);
      expect(f.of('anon:gone-device').map(line).slice(-1)).toEqual(['profileErased']);
    });
    expect(feed.of('user:gone').slice(-1)[0]?.actor).toBe('ada');
    const missing = await profiles.getProfile({ profileId: 'user:gone' }).catch((e: unknown) => e);
    expect((missing as GrpcCallError).code).toBe(status.NOT_FOUND);
    const byEmail = await profiles
      .lookupProfile({
        identity: { kind: IdentityKind.TRAIT, trait: 'email', value: 'gone@example.com' },
      })
      .catch((e: unknown) => e);
    expect((byEmail as GrpcCallError).code).toBe(status.NOT_FOUND);
    const db = (await scope.mongo()).db(`t${scope.id}_ingestion`);
    await eventually(async () => {
      expect(
        await db
          .collection('profiles')
          .countDocuments({ _id: { $in: ['user:gone', 'anon:gone-device'] } as never }),
      ).toBe(0);
      expect(
        await db.collection('identities').countDocuments({
          _id: { $in: ['user:gone', 'anon:gone-device', 'trait:email:gone@example.com'] } as never,
        }),
      ).toBe(0);
    });

    await scope.produce(upstreamEventsTopic, [
      json('gone', { type: 'track', messageId: 'e-3', userId: 'gone', event: 'Came Back' }),
    ]);
    await feed.until((f) =>
      expect(f.of('user:gone').map(line).slice(-1)).toEqual(['event Came Back TRACK']),
    );
    const before = feed.of('user:gone').find((c) => c.sourceId === 'e-2');
    const after = feed.of('user:gone').slice(-1)[0];
    expect(after?.incarnation).not.toBe(before?.incarnation);
    const { profile } = await profiles.getProfile({ profileId: 'user:gone' });
    expect(profile?.identities).toHaveLength(1);
    expect(profile?.traits).toEqual({});
  });

  it('accepts events over Ingest and IngestStream, answering for each refused one why', async () => {
    const crm = scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'sam', groups: ['crm'] }),
    );
    const event = (messageId: string, userId: string) =>
      create(UpstreamEventSchema, {
        messageId,
        userId,
        payload: { case: 'track', value: { event: 'Called In' } },
      });
    const unary = await crm.ingest({ events: [event('i-1', 'api-1'), event('', 'api-1')] });
    expect(unary.accepted).toBe(1);
    expect(
      unary.rejected.map((r) => [r.index, r.reason, r.violations.map((v) => v.field)]),
    ).toEqual([[1, 'INVALID_EVENT', ['messageId']]]);
    const streamed = await crm.ingestStream([
      { events: [event('s-1', 'api-2'), event('s-2', '')] },
      { events: [event('s-3', 'api-2')] },
    ]);
    expect(streamed.accepted).toBe(2);
    expect(streamed.rejected.map((r) => [r.index, r.messageId])).toEqual([[1, 's-2']]);
    await feed.until((f) => {
      expect(f.of('user:api-1').map(line)).toEqual([
        'identity USER_ID:api-1',
        'event Called In TRACK',
      ]);
      expect(f.of('user:api-2').filter((c) => c.change.case === 'eventRecorded')).toHaveLength(2);
    });
  });

  it('pages through profiles and answers accounts from group calls', async () => {
    await scope.produce(upstreamEventsTopic, [
      json('acct', {
        type: 'group',
        messageId: 'g-a',
        userId: 'acct',
        groupId: 'acme',
        traits: { tier: 'gold' },
      }),
    ]);
    await feed.until((f) => {
      expect(f.of('acme').map(line)).toEqual(['accountTraitsChanged tier="gold"']);
      expect(f.of('user:acct').map(line)).toContain('joined acme');
    });
    expect((await profiles.getAccount({ accountId: 'acme' })).account?.traits).toEqual({
      tier: 'gold',
    });
    const ids: string[] = [];
    let pageToken = '';
    await eventually(async () => {
      ids.length = 0;
      pageToken = '';
      do {
        const page = await profiles.listProfiles({ page: { pageSize: 3, pageToken } });
        ids.push(...page.profiles.map((p) => p.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(ids).toContain('user:acct');
    });
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    const forged = await profiles
      .listProfiles({ page: { pageSize: 3, pageToken: 'eyJwIjoiJGd0In0.x' } })
      .catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(GrpcCallError);
    expect((forged as GrpcCallError).code).toBe(status.INVALID_ARGUMENT);
  });
});
