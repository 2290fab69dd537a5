import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import {
  ContentTypes,
  IdentityKind,
  KafkaHeaders,
  ProfileService,
  UpstreamEventSchema,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { GrpcCallError, type RunningService } from '@shoal/platform';
import { TestScope, eventually, httpGet } from '@shoal/testing';
import { ingestionService } from '../src/service';

describe('ingestion over real Kafka, gRPC and the store', () => {
  const scope = new TestScope();
  let ingestion: RunningService;
  let token: string;

  beforeAll(async () => {
    ingestion = await scope.start(ingestionService);
    token = await scope.token({ subject: 'service:membership', service: 'membership' });
  });
  afterAll(() => scope.close());

  it('stores profiles from Segment JSON and protobuf events and answers ProfileService', async () => {
    const protobufEvent = create(UpstreamEventSchema, {
      messageId: 'pb-1',
      anonymousId: 'device-9',
      timestamp: timestampFromDate(new Date('2026-11-01T12:00:00Z')),
      payload: { case: 'track', value: { event: 'App Opened' } },
    });
    await scope.produce(upstreamEventsTopic, [
      {
        key: 'u-1',
        value: JSON.stringify({
          type: 'identify',
          messageId: 'm-1',
          userId: 'u-1',
          traits: { plan: 'pro', email: 'ann@example.com' },
          timestamp: '2026-11-01T10:00:00Z',
        }),
      },
      {
        key: 'u-1',
        value: JSON.stringify({
          type: 'track',
          messageId: 'm-2',
          userId: 'u-1',
          event: 'Order Completed',
          properties: { total: 99 },
          timestamp: '2026-11-02T10:00:00Z',
        }),
      },
      {
        key: 'device-9',
        value: Buffer.from(toBinary(UpstreamEventSchema, protobufEvent)),
        headers: { [KafkaHeaders.contentType]: ContentTypes.protobuf },
      },
    ]);

    const profiles = scope.client(ProfileService, ingestion, token);
    const { profile } = await eventually(() =>
      profiles.lookupProfile({ identity: { kind: IdentityKind.USER_ID, value: 'u-1' } }),
    );
    expect(profile?.traits).toEqual({ plan: 'pro', email: 'ann@example.com' });
    expect(profile?.lastSeenAt?.seconds).toBe(BigInt(Date.parse('2026-11-02T10:00:00Z') / 1000));

    const anonymous = await eventually(() => profiles.getProfile({ profileId: 'anon:device-9' }));
    expect(anonymous.profile?.identities).toEqual([
      expect.objectContaining({ kind: IdentityKind.ANONYMOUS_ID, value: 'device-9' }),
    ]);

    // the stream reads the store, which has the profiles from the first checkpoint after them
    await eventually(async () => {
      const streamed: string[] = [];
      for await (const item of profiles.streamProfiles({})) streamed.push(item.profile?.id ?? '');
      expect(streamed).toEqual(['anon:device-9', 'user:u-1']);
    });
  });

  it('dead-letters a malformed record with its reason and origin, and the next one still flows', async () => {
    await scope.produce(upstreamEventsTopic, [
      { key: 'bad', value: '{"type": "track", "messageId": ' },
      {
        key: 'bad',
        value: JSON.stringify({ type: 'track', messageId: 'x', event: 'No Identity' }),
      },
      {
        key: 'u-2',
        value: JSON.stringify({
          type: 'identify',
          messageId: 'm-3',
          userId: 'u-2',
          traits: { plan: 'free' },
        }),
      },
    ]);
    const deadLetters = await scope.readTopic(upstreamEventsDeadLetterTopic, 2);
    const headers = deadLetters.map((m) =>
      Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
    );
    expect(headers.map((h) => h[KafkaHeaders.deadLetterReason])).toEqual([
      'INVALID_JSON',
      'INVALID_EVENT',
    ]);
    expect(headers[1]?.[KafkaHeaders.deadLetterError]).toContain('userId');
    expect(headers[0]?.[KafkaHeaders.deadLetterTopic]).toBe(scope.topicName(upstreamEventsTopic));
    expect(headers[0]?.[KafkaHeaders.deadLetterOffset]).toMatch(/^\d+$/);
    expect(deadLetters[0]?.value?.toString()).toBe('{"type": "track", "messageId": ');

    const profiles = scope.client(ProfileService, ingestion, token);
    const { profile } = await eventually(() => profiles.getProfile({ profileId: 'user:u-2' }));
    expect(profile?.traits).toEqual({ plan: 'free' });
  });

  it('answers bad requests with INVALID_ARGUMENT naming the field, and unknown ids with NOT_FOUND', async () => {
    const profiles = scope.client(ProfileService, ingestion, token);
    const invalid = await profiles
      .lookupProfile({ identity: { kind: IdentityKind.UNSPECIFIED, value: '' } })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(GrpcCallError);
    expect((invalid as GrpcCallError).code).toBe(status.INVALID_ARGUMENT);
    expect((invalid as GrpcCallError).violations.map((v) => v.field)).toEqual([
      'identity.kind',
      'identity.value',
    ]);

    const missing = await profiles
      .getProfile({ profileId: 'user:nobody' })
      .catch((e: unknown) => e);
    expect((missing as GrpcCallError).code).toBe(status.NOT_FOUND);
  });

  it('reports ready on /readyz with each dependency', async () => {
    const ready = await eventually(async () => {
      const response = await httpGet(ingestion.httpPort, '/readyz');
      expect(response.status).toBe(200);
      return JSON.parse(response.body) as {
        ready: boolean;
        dependencies: { name: string; ready: boolean }[];
      };
    });
    expect(ready.dependencies.map((d) => d.name)).toEqual([
      'lifecycle',
      'mongodb',
      'kafka',
      'consumer:ingestion',
    ]);
    expect((await httpGet(ingestion.httpPort, '/healthz')).status).toBe(200);
    expect((await httpGet(ingestion.httpPort, '/metrics')).body).toContain(
      'shoal_kafka_consumed_total',
    );
  });
});

describe('ingestion size limit', () => {
  const scope = new TestScope();
  afterAll(() => scope.close());

  it('dead-letters a record over KAFKA_MAX_MESSAGE_BYTES as TOO_LARGE and keeps going', async () => {
    const ingestion = await scope.start(ingestionService, { KAFKA_MAX_MESSAGE_BYTES: '2048' });
    const big = JSON.stringify({
      type: 'identify',
      messageId: 'big',
      userId: 'u-big',
      traits: { bio: 'x'.repeat(4096) },
    });
    await scope.produce(upstreamEventsTopic, [
      { key: 'u-big', value: big },
      {
        key: 'u-small',
        value: JSON.stringify({
          type: 'identify',
          messageId: 'small',
          userId: 'u-small',
          traits: { ok: true },
        }),
      },
    ]);
    const [deadLetter] = await scope.readTopic(upstreamEventsDeadLetterTopic, 1);
    expect(String(deadLetter?.headers?.[KafkaHeaders.deadLetterReason])).toBe('TOO_LARGE');
    expect(String(deadLetter?.headers?.[KafkaHeaders.deadLetterError])).toContain(
      'the limit is 2048',
    );
    // cut to fit the dead-letter topic; the original's size and hash say what it was
    expect(deadLetter?.value?.length).toBeLessThan(2048);
    expect(String(deadLetter?.headers?.[KafkaHeaders.deadLetterOriginalBytes])).toBe(
      String(Buffer.byteLength(big)),
    );
    const profiles = scope.client(
      ProfileService,
      ingestion,
      await scope.token({ subject: 'service:membership', service: 'membership' }),
    );
    await expect(
      eventually(() => profiles.getProfile({ profileId: 'user:u-small' })),
    ).resolves.toBeDefined();
  });
});
