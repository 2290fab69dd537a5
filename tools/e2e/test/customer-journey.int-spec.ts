import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { type JsonValue, fromBinary, fromJson } from '@bufbuild/protobuf';
import {
  CloudEventHeaders,
  CsvColumnKind,
  ExportService,
  IdentityKind,
  JobStatus,
  MembershipService,
  MembershipTransitionSchema,
  ProfileService,
  RefreshMode,
  RuleSchema,
  SchedulerService,
  SegmentKind,
  SegmentService,
  TransitionCause,
  Visibility,
  membershipChangesTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { GrpcCallError, type GrpcClient, createGrpcClient } from '@shoal/platform';
import { ShoalStack, type ShoalServiceName, TestScope, eventually } from '@shoal/testing';
import { parse } from 'csv-parse/sync';
import type { Consumer } from 'kafkajs';

jest.setTimeout(180_000);

/** How long one step may take to show its effect; generous, the machine is shared. */
const STEP_MS = 90_000;
const SIGNING_SECRET = `whsec-${randomBytes(12).toString('hex')}`;

/** One transition as observed on shoal.membership.changes. */
interface Observed {
  readonly id: string;
  readonly type: string;
  readonly profileId: string;
  readonly segmentId: string;
  readonly cause: string;
}

/** One webhook request as the receiver got it. */
interface Delivery {
  readonly signature: string;
  readonly body: string;
}

/**
 * The journey a team adopting Shoal takes, through public interfaces only: the five built
 * services run as processes; events go in on the upstream topic; everything else is gRPC, the
 * membership topic, the CSV download and a webhook receiver on 127.0.0.1.
 */
describe('a customer journey through the five services', () => {
  const scope = new TestScope();
  const stack = new ShoalStack(scope);
  const clients: { close(): void }[] = [];
  const observed: Observed[] = [];
  const deliveries: Delivery[] = [];
  const receiver: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      deliveries.push({
        signature: String(req.headers['x-shoal-signature'] ?? ''),
        body: Buffer.concat(parts).toString('utf8'),
      });
      res.writeHead(200).end();
    });
  });
  let transitionsConsumer: Consumer | undefined;
  let segments: GrpcClient<typeof SegmentService>;
  let membership: GrpcClient<typeof MembershipService>;
  let scheduler: GrpcClient<typeof SchedulerService>;
  let exports: GrpcClient<typeof ExportService>;
  let profiles: GrpcClient<typeof ProfileService>;
  let marketerToken = '';

  // what the journey creates, shared by its steps
  const ids = {
    anyBuyers: '',
    buyers: '',
    goldLive: '',
    goldDaily: '',
    vipList: '',
    vips: '',
    webhook: '',
  };
  let ann = '';
  let bob = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    await stack.start({
      settings: {
        ingestion: { PROFILE_ADMIN_GROUPS: 'privacy' },
        exporter: { EXPORTER_SYNC_INTERVAL_MS: '100', EXPORTER_BATCH_MAX_WAIT_MS: '300' },
      },
    });

    marketerToken = await scope.token({ subject: 'ann', groups: ['marketing'], ttlSeconds: 3600 });
    const client = <S extends Parameters<typeof createGrpcClient>[0]>(
      service: S,
      name: ShoalServiceName,
      token = marketerToken,
    ) => {
      const made = createGrpcClient(service, {
        address: stack.address(name),
        token: () => token,
        deadlineMs: 15_000,
      });
      clients.push(made);
      return made;
    };
    segments = client(SegmentService, 'segments');
    membership = client(MembershipService, 'membership');
    scheduler = client(SchedulerService, 'scheduler');
    exports = client(ExportService, 'exporter');
    profiles = client(ProfileService, 'ingestion');

    transitionsConsumer = scope.kafka().consumer({ groupId: `journey-${scope.id}` });
    await transitionsConsumer.connect();
    await transitionsConsumer.subscribe({
      topic: scope.topicName(membershipChangesTopic),
      fromBeginning: true,
    });
    await transitionsConsumer.run({
      eachMessage: async ({ message }) => {
        const t = fromBinary(MembershipTransitionSchema, message.value as Buffer);
        observed.push({
          id: t.id,
          type: message.headers?.[CloudEventHeaders.type]?.toString() ?? '',
          profileId: t.profileId,
          segmentId: t.segmentId,
          cause: TransitionCause[t.cause],
        });
      },
    });
  }, 400_000);

  afterAll(async () => {
    await transitionsConsumer?.disconnect();
    for (const made of clients) made.close();
    await stack.close();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await scope.close();
  });

  /** Upstream systems' Segment-spec JSON, keyed as they key it. */
  async function send(...events: Record<string, unknown>[]) {
    await scope.produce(
      upstreamEventsTopic,
      events.map((event) => ({
        key: String(event['userId'] ?? event['anonymousId']),
        value: JSON.stringify({ messageId: randomBytes(8).toString('hex'), ...event }),
      })),
    );
  }

  async function createSegment(
    name: string,
    rule: JsonValue,
    mode: RefreshMode = RefreshMode.REALTIME,
  ): Promise<string> {
    const { segment } = await segments.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name,
        rule: fromJson(RuleSchema, rule),
        visibility: Visibility.SHARED,
        // a schedule that never comes round during the test: only RefreshNow moves it
        refresh: mode === RefreshMode.SCHEDULED ? { mode, cron: '0 0 1 1 *' } : { mode },
      },
    });
    return segment?.id ?? '';
  }

  /** The transitions of one segment so far, as "<profile> <type> <cause>", in topic order per profile. */
  const of = (segmentId: string) =>
    observed
      .filter((t) => t.segmentId === segmentId)
      .map((t) => `${t.profileId} ${t.type} ${t.cause}`);

  async function isMember(profileId: string, segmentId: string): Promise<boolean> {
    const { memberships } = await membership.isMember({ profileId, segmentIds: [segmentId] });
    return memberships[0]?.member ?? false;
  }

  it('creates the segments, a static list and a webhook destination for a marketer', async () => {
    ids.anyBuyers = await createSegment('Buyers', {
      condition: { event: { name: 'Order Completed', count: { gte: 1 } } },
    });
    ids.buyers = await createSegment('Recent repeat buyers', {
      condition: {
        all: {
          conditions: [
            { event: { name: 'Order Completed', count: { gte: 2 } } },
            {
              event: {
                name: 'Order Completed',
                lastSeen: { withinLast: { minutes: 1 } },
              },
            },
          ],
        },
      },
    });
    const gold = { condition: { trait: { path: 'plan', equals: 'gold' } } };
    ids.goldLive = await createSegment('Gold customers (live)', gold);
    ids.goldDaily = await createSegment('Gold customers (daily)', gold, RefreshMode.SCHEDULED);
    const { segment: list } = await segments.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'VIP list', visibility: Visibility.SHARED },
    });
    ids.vipList = list?.id ?? '';
    ids.vips = await createSegment('VIPs', { condition: { inList: ids.vipList } });

    const { destination } = await exports.createDestination({
      name: 'CRM webhook',
      config: {
        kind: {
          case: 'webhook',
          value: {
            url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/shoal`,
            signingSecret: SIGNING_SECRET,
          },
        },
      },
    });
    ids.webhook = destination?.id ?? '';
    // the exporter knows a segment once its definition has come through the topic
    await eventually(
      () =>
        exports.linkSegment({ destinationId: ids.webhook, segmentId: ids.buyers, autoSync: true }),
      STEP_MS,
      250,
    );
    expect(Object.values(ids).every((id) => id !== '')).toBe(true);
  });

  it('1. merges anonymous browsing into the customer who identifies: one profile, found by either id', async () => {
    await send(
      { type: 'track', anonymousId: 'visitor-7', event: 'Page Viewed', properties: { path: '/' } },
      { type: 'track', anonymousId: 'visitor-7', event: 'Product Viewed' },
    );
    await eventually(async () => {
      const { profile } = await profiles.lookupProfile({
        identity: { kind: IdentityKind.ANONYMOUS_ID, value: 'visitor-7' },
      });
      expect(profile?.id).toBe('anon:visitor-7');
    }, STEP_MS);
    await send({
      type: 'identify',
      userId: 'ann',
      anonymousId: 'visitor-7',
      traits: { plan: 'basic' },
    });

    const byAnonymousId = await eventually(async () => {
      const { profile } = await profiles.lookupProfile({
        identity: { kind: IdentityKind.ANONYMOUS_ID, value: 'visitor-7' },
      });
      expect(profile?.id).toBe('user:ann');
      return profile;
    }, STEP_MS);
    const { profile: byUserId } = await profiles.lookupProfile({
      identity: { kind: IdentityKind.USER_ID, value: 'ann' },
    });
    expect(byUserId?.id).toBe(byAnonymousId?.id);
    ann = byUserId?.id ?? '';
    expect(byUserId?.identities.map((i) => `${IdentityKind[i.kind]} ${i.value}`).sort()).toEqual([
      'ANONYMOUS_ID visitor-7',
      'USER_ID ann',
    ]);
  });

  it('2. purchases move the profile into a REALTIME segment', async () => {
    // Stamped 20 s ago: step 3's one-minute window then closes about 40 s from now, in real time
    // (the services run on the system clock), which leaves membership 40 s to take them in.
    const orderedAt = new Date(Date.now() - 20_000).toISOString();
    const order = (total: number) => ({
      type: 'track',
      userId: 'ann',
      event: 'Order Completed',
      properties: { total },
      timestamp: orderedAt,
    });
    await send(order(120));
    // one purchase makes a buyer, not a repeat buyer (both are evaluated on the same change)
    await eventually(
      () => expect(of(ids.anyBuyers)).toEqual([`${ann} shoal.segment.entered EVENT`]),
      STEP_MS,
    );
    expect(of(ids.buyers)).toEqual([]);
    expect(await isMember(ann, ids.buyers)).toBe(false);

    await send(order(840));
    await eventually(
      () => expect(of(ids.buyers)).toEqual([`${ann} shoal.segment.entered EVENT`]),
      STEP_MS,
    );
    expect(await isMember(ann, ids.buyers)).toBe(true);
  });

  it('3. time alone moves it out again once the last purchase is more than a minute old', async () => {
    await eventually(
      () =>
        expect(of(ids.buyers)).toEqual([
          `${ann} shoal.segment.entered EVENT`,
          `${ann} shoal.segment.exited TIME`,
        ]),
      STEP_MS,
      250,
    );
    expect(await isMember(ann, ids.buyers)).toBe(false);
  });

  it('4. a SCHEDULED segment changes only when refreshed', async () => {
    await send({ type: 'identify', userId: 'ann', traits: { plan: 'gold' } });
    // the live twin of the same rule shows membership has taken the change in
    await eventually(
      () => expect(of(ids.goldLive)).toEqual([`${ann} shoal.segment.entered EVENT`]),
      STEP_MS,
    );
    expect(of(ids.goldDaily)).toEqual([]);
    expect(await isMember(ann, ids.goldDaily)).toBe(false);

    const { jobs } = await eventually(
      () => scheduler.refreshNow({ segmentIds: [ids.goldDaily] }),
      STEP_MS,
      250,
    );
    expect(jobs).toHaveLength(1);
    const job = await eventually(async () => {
      const { job: current } = await scheduler.getJob({ jobId: jobs[0]?.id ?? '' });
      expect(JobStatus[current?.status ?? JobStatus.UNSPECIFIED]).toBe('SUCCEEDED');
      return current;
    }, STEP_MS);
    await eventually(
      () => expect(of(ids.goldDaily)).toEqual([`${ann} shoal.segment.entered REFRESH`]),
      STEP_MS,
    );
    const seen = observed.filter((t) => t.segmentId === ids.goldDaily);
    expect({ entered: job?.entered, exited: job?.exited }).toEqual({
      entered: BigInt(seen.filter((t) => t.type === 'shoal.segment.entered').length),
      exited: BigInt(seen.filter((t) => t.type === 'shoal.segment.exited').length),
    });
    expect(await isMember(ann, ids.goldDaily)).toBe(true);

    // leaving the rule moves the live segment at once and the daily one not until its next refresh
    await send({ type: 'identify', userId: 'ann', traits: { plan: 'platinum' } });
    await eventually(
      () =>
        expect(of(ids.goldLive)).toEqual([
          `${ann} shoal.segment.entered EVENT`,
          `${ann} shoal.segment.exited EVENT`,
        ]),
      STEP_MS,
    );
    expect(of(ids.goldDaily)).toEqual([`${ann} shoal.segment.entered REFRESH`]);
    expect(await isMember(ann, ids.goldDaily)).toBe(true);
  });

  it('5. a segment on a static list follows the members added to and removed from it', async () => {
    await send({ type: 'identify', userId: 'bob', traits: { plan: 'basic' } });
    bob = await eventually(async () => {
      const { profile } = await profiles.lookupProfile({
        identity: { kind: IdentityKind.USER_ID, value: 'bob' },
      });
      return profile?.id ?? '';
    }, STEP_MS);

    const { added } = await segments.addListMembers({ listId: ids.vipList, memberIds: [ann, bob] });
    expect(added).toBe(2);
    await eventually(
      () =>
        expect([...of(ids.vips)].sort()).toEqual([
          `${ann} shoal.segment.entered LIST`,
          `${bob} shoal.segment.entered LIST`,
        ]),
      STEP_MS,
    );

    const { removed } = await segments.removeListMembers({ listId: ids.vipList, memberIds: [bob] });
    expect(removed).toBe(1);
    await eventually(
      () =>
        expect(of(ids.vips).filter((t) => t.startsWith(`${bob} `))).toEqual([
          `${bob} shoal.segment.entered LIST`,
          `${bob} shoal.segment.exited LIST`,
        ]),
      STEP_MS,
    );
    const { memberIds } = await segments.listListMembers({ listId: ids.vipList });
    expect(memberIds).toEqual([ann]);
    expect(await isMember(ann, ids.vips)).toBe(true);
    expect(await isMember(bob, ids.vips)).toBe(false);
  });

  it('6. exports the segment as CSV, over gRPC and as a download, that parses back strictly', async () => {
    const columns = [
      { kind: CsvColumnKind.PROFILE_ID },
      { kind: CsvColumnKind.USER_ID },
      { kind: CsvColumnKind.ANONYMOUS_ID },
      { kind: CsvColumnKind.TRAIT, trait: 'plan' },
    ];
    let rows = 0n;
    const chunks: Buffer[] = [];
    for await (const chunk of exports.exportCsv({ segmentId: ids.vips, columns })) {
      chunks.push(Buffer.from(chunk.data));
      rows += chunk.rows;
    }
    const csv = Buffer.concat(chunks).toString('utf8');
    const records = parse(csv, {
      columns: true,
      relax_column_count: false,
      relax_quotes: false,
      skip_empty_lines: false,
    }) as Record<string, string>[];
    expect(records).toEqual([
      { profile_id: ann, user_id: 'ann', anonymous_id: 'visitor-7', plan: 'platinum' },
    ]);
    expect(rows).toBe(1n);

    const download = await fetch(
      `${stack.downloadUrl}/segments/${encodeURIComponent(ids.vips)}/members.csv?columns=profile_id,user_id,anonymous_id,trait:plan`,
      { headers: { authorization: `Bearer ${marketerToken}` } },
    );
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await download.text()).toBe(csv);
  });

  it('7. a webhook destination received the linked segment’s transitions, each batch validly signed', async () => {
    const transitionIds = observed.filter((t) => t.segmentId === ids.buyers).map((t) => t.id);
    expect(transitionIds).toHaveLength(2);
    const received = await eventually(() => {
      const records = deliveries.flatMap((d) => {
        const body = JSON.parse(d.body) as {
          segmentId: string;
          full: boolean;
          records: { eventId: string; type: string; profileId: string }[];
        };
        return body.full ? [] : body.records;
      });
      expect(records.map((r) => r.eventId).sort()).toEqual([...transitionIds].sort());
      return records;
    }, STEP_MS);
    expect(received.map((r) => `${r.profileId} ${r.type}`)).toEqual([
      `${ann} entered`,
      `${ann} exited`,
    ]);
    for (const { signature, body } of deliveries) {
      const { t, v1 } = Object.fromEntries(
        signature.split(',').map((part) => part.split('=') as [string, string]),
      );
      const expected = createHmac('sha256', SIGNING_SECRET).update(`${t}.${body}`).digest();
      expect(timingSafeEqual(Buffer.from(v1 ?? '', 'hex'), expected)).toBe(true);
    }
  });

  it('8. an erased profile leaves every segment it was in', async () => {
    const memberOf = async () =>
      (await membership.getProfileSegments({ profileId: ann })).memberships
        .filter((m) => m.member)
        .map((m) => m.segmentId)
        .sort();
    expect(await memberOf()).toEqual([ids.anyBuyers, ids.goldDaily, ids.vips].sort());

    const privacyToken = await scope.token({ subject: 'dpo', groups: ['privacy'] });
    const erasing = createGrpcClient(ProfileService, {
      address: stack.address('ingestion'),
      token: () => privacyToken,
      deadlineMs: 15_000,
    });
    clients.push(erasing);
    await erasing.eraseProfile({ identity: { kind: IdentityKind.USER_ID, value: 'ann' } });

    await eventually(
      () =>
        expect(
          observed
            .filter((t) => t.profileId === ann && t.cause === 'ERASE')
            .map((t) => `${t.type} ${t.segmentId}`)
            .sort(),
        ).toEqual(
          [ids.anyBuyers, ids.goldDaily, ids.vips].map((id) => `shoal.segment.exited ${id}`).sort(),
        ),
      STEP_MS,
    );
    expect(await memberOf()).toEqual([]);
    const lookup = await profiles
      .lookupProfile({ identity: { kind: IdentityKind.ANONYMOUS_ID, value: 'visitor-7' } })
      .catch((e: unknown) => e);
    expect(lookup).toBeInstanceOf(GrpcCallError);
    expect((lookup as GrpcCallError).code).toBe(grpc.status.NOT_FOUND);
  });
});
