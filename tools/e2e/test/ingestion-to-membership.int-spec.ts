import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JsonValue, fromBinary, fromJson } from '@bufbuild/protobuf';
import {
  CloudEventHeaders,
  IdentityKind,
  MembershipTransitionSchema,
  ProfileService,
  RuleSchema,
  TransitionCause,
  membershipChangesTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { type GrpcClient, createGrpcClient } from '@shoal/platform';
import {
  type LaunchedProcess,
  TestScope,
  eventually,
  freePort,
  publishSegmentDefinition,
  startServiceProcess,
} from '@shoal/testing';

/**
 * Membership on what ingestion really publishes: upstream JSON events become profile changes
 * (identities, events, traits, merges, erasures) that membership turns into segment entries and
 * exits — the two built services as processes, on one scope's topics.
 */
describe('upstream events through ingestion into segment membership', () => {
  const scope = new TestScope();
  const logs = mkdtempSync(join(tmpdir(), 'shoal-e2e-'));
  const processes: LaunchedProcess[] = [];
  let profiles: GrpcClient<typeof ProfileService>;

  const start = async (name: 'ingestion' | 'membership', overrides: Record<string, string>) => {
    const grpcPort = await freePort();
    const env = scope.env(name, { LOG_LEVEL: 'info', ...overrides });
    const launched = await startServiceProcess({
      name,
      env,
      grpcPort,
      httpPort: await freePort(),
      logFile: join(logs, `${name}.log`),
    });
    processes.push(launched);
    return grpcPort;
  };

  beforeAll(async () => {
    const ingestionPort = await start('ingestion', { INGEST_CHECKPOINT_INTERVAL_MS: '200' });
    await start('membership', { MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '200' });
    const token = await scope.token({ subject: 'service:membership', service: 'membership' });
    profiles = createGrpcClient(ProfileService, {
      address: `127.0.0.1:${ingestionPort}`,
      token: () => token,
      deadlineMs: 10_000,
    });
    await define('seg_buyers', {
      condition: { event: { name: 'Order Completed', count: { gte: 1 } } },
    });
    await define('seg_pro', { condition: { trait: { path: 'plan', equals: 'pro' } } });
  }, 300_000);

  afterAll(async () => {
    profiles?.close();
    for (const launched of processes) await launched.kill('SIGKILL');
    await scope.close();
    rmSync(logs, { recursive: true, force: true });
  });

  /** A segment definition as the segments service publishes it. */
  async function define(id: string, rule: JsonValue) {
    await publishSegmentDefinition(scope, { id, rule: fromJson(RuleSchema, rule) });
  }

  /** Upstream systems' Segment-spec JSON, keyed as they key it. */
  async function send(...events: Record<string, unknown>[]) {
    await scope.produce(
      upstreamEventsTopic,
      events.map((event) => ({
        key: String(event['userId'] ?? event['anonymousId']),
        value: JSON.stringify(event),
      })),
    );
  }

  /** Every transition so far as "<profile> <ce_type> <segment> <cause>". */
  async function transitions(): Promise<string[]> {
    const messages = await scope.readTopicToEnd(membershipChangesTopic);
    return messages.map((message) => {
      const t = fromBinary(MembershipTransitionSchema, message.value as Buffer);
      const type = message.headers?.[CloudEventHeaders.type]?.toString();
      return `${t.profileId} ${type} ${t.segmentId} ${TransitionCause[t.cause]}`;
    });
  }

  const of = (all: string[], profileId: string) =>
    all.filter((t) => t.startsWith(`${profileId} `)).sort();

  it('enters an anonymous visitor who ordered, moves the membership to the user it turns out to be, and exits the user once erased', async () => {
    await send({
      type: 'track',
      messageId: 'm-1',
      anonymousId: 'visitor-1',
      event: 'Order Completed',
      properties: { total: 120 },
    });
    await eventually(
      async () =>
        expect(of(await transitions(), 'anon:visitor-1')).toEqual([
          'anon:visitor-1 shoal.segment.entered seg_buyers EVENT',
        ]),
      60_000,
    );

    await send(
      { type: 'track', messageId: 'm-2', userId: 'ann', event: 'Signed Up' },
      {
        type: 'identify',
        messageId: 'm-3',
        userId: 'ann',
        anonymousId: 'visitor-1',
        traits: { plan: 'pro' },
      },
    );
    await eventually(async () => {
      const all = await transitions();
      expect(of(all, 'anon:visitor-1')).toEqual([
        'anon:visitor-1 shoal.segment.entered seg_buyers EVENT',
        'anon:visitor-1 shoal.segment.exited seg_buyers MERGE',
      ]);
      expect(of(all, 'user:ann')).toEqual([
        'user:ann shoal.segment.entered seg_buyers MERGE',
        'user:ann shoal.segment.entered seg_pro EVENT',
      ]);
    }, 60_000);
    const { profile } = await profiles.lookupProfile({
      identity: { kind: IdentityKind.ANONYMOUS_ID, value: 'visitor-1' },
    });
    expect(profile?.id).toBe('user:ann');

    await profiles.eraseProfile({ identity: { kind: IdentityKind.USER_ID, value: 'ann' } });
    await eventually(
      async () =>
        expect(of(await transitions(), 'user:ann')).toEqual([
          'user:ann shoal.segment.entered seg_buyers MERGE',
          'user:ann shoal.segment.entered seg_pro EVENT',
          'user:ann shoal.segment.exited seg_buyers ERASE',
          'user:ann shoal.segment.exited seg_pro ERASE',
        ]),
      60_000,
    );
  });
});
