import { createHash } from 'node:crypto';
import {
  KafkaHeaders,
  ProfileService,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import type { RunningService } from '@shoal/platform';
import { TestScope, eventually } from '@shoal/testing';
import { CompressionTypes, type KafkaMessage } from 'kafkajs';
import { ingestionService } from '../src/service';
import { MAX_CONFIGURABLE_DEPTH } from '../src/upstream/upstream-record-limits';

const MAX_MESSAGE_BYTES = 64 * 1024;

/** `depth` nested objects, the outer one counting as one: { level: { level: … 'bottom' } }. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { level: 'bottom' };
  for (let level = 1; level < depth; level++) value = { level: value };
  return value;
}

const identify = (userId: string, traits: unknown) =>
  JSON.stringify({ type: 'identify', messageId: `m-${userId}`, userId, traits });

const header = (message: KafkaMessage | undefined, name: string) =>
  message?.headers?.[name]?.toString();

describe('ingestion refuses what it cannot store or serve, and flows on', () => {
  const scope = new TestScope();
  let ingestion: RunningService;
  let token: string;
  const profile = (id: string) =>
    scope.client(ProfileService, ingestion, token).getProfile({ profileId: id });
  /** The dead letter of the record with this key, among the first `total` (one partition, in order). */
  const deadLetterOf = async (key: string, total: number) => {
    const all = await scope.readTopic(upstreamEventsDeadLetterTopic, total, 60_000);
    const found = all.find((m) => m.key?.toString() === key);
    if (!found) throw new Error(`no dead letter for ${key} among ${all.length}`);
    return found;
  };

  beforeAll(async () => {
    ingestion = await scope.start(ingestionService, {
      KAFKA_PARTITIONS: '1',
      KAFKA_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      INGEST_MAX_DEPTH: String(MAX_CONFIGURABLE_DEPTH),
    });
    token = await scope.token({ subject: 'service:membership', service: 'membership' });
  });
  afterAll(() => scope.close());

  it('dead-letters the identify whose trait name holds a NUL, and the next record is stored', async () => {
    await scope.produce(upstreamEventsTopic, [
      {
        key: 'nul',
        value: '{"type":"identify","messageId":"p","userId":"u","traits":{"a\\u0000b":1}}',
      },
      { key: 'after-nul', value: identify('after-nul', { plan: 'pro' }) },
    ]);
    const dead = await deadLetterOf('nul', 1);
    expect(header(dead, KafkaHeaders.deadLetterReason)).toBe('INVALID_EVENT');
    expect(header(dead, KafkaHeaders.deadLetterError)).toBe(
      'traits["a\\u0000b"]: field name contains a NUL character',
    );
    const { profile: stored } = await eventually(() => profile('user:after-nul'), 60_000);
    expect(stored?.traits).toEqual({ plan: 'pro' });
  });

  it('stores traits at the deepest configurable nesting and serves them to a protobuf-es client', async () => {
    const traits = nested(MAX_CONFIGURABLE_DEPTH);
    await scope.produce(upstreamEventsTopic, [
      { key: 'deepest', value: identify('deepest', traits) },
    ]);
    const { profile: stored } = await eventually(() => profile('user:deepest'), 60_000);
    expect(stored?.traits).toEqual(traits);
  });

  it('dead-letters traits nested one level deeper, and too many fields, naming the limit', async () => {
    const tooMany = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`t${i}`, i]));
    await scope.produce(upstreamEventsTopic, [
      { key: 'too-deep', value: identify('too-deep', nested(MAX_CONFIGURABLE_DEPTH + 1)) },
      { key: 'too-many', value: identify('too-many', tooMany) },
      { key: 'after-limits', value: identify('after-limits', { ok: true }) },
    ]);
    expect(header(await deadLetterOf('too-deep', 3), KafkaHeaders.deadLetterError)).toBe(
      `traits${'.level'.repeat(MAX_CONFIGURABLE_DEPTH)}: nests deeper than ` +
        `${MAX_CONFIGURABLE_DEPTH} levels (INGEST_MAX_DEPTH)`,
    );
    expect(header(await deadLetterOf('too-many', 3), KafkaHeaders.deadLetterError)).toBe(
      'traits: has more than 1000 fields in one event (INGEST_MAX_KEYS)',
    );
    await expect(eventually(() => profile('user:after-limits'), 60_000)).resolves.toBeDefined();
    await expect(profile('user:too-deep')).rejects.toThrow('no profile');
  });

  it('dead-letters a gzip-compressed record over KAFKA_MAX_MESSAGE_BYTES, cut to fit, and flows on', async () => {
    // 4 MiB of one trait compresses to a few KiB: the broker takes it, decompressed it is 64 times the limit
    const huge = Buffer.from(identify('huge', { bio: 'x'.repeat(4 << 20) }));
    const producer = scope.kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: scope.topicName(upstreamEventsTopic),
      compression: CompressionTypes.GZIP,
      messages: [
        { key: 'huge', value: huge },
        { key: 'after-huge', value: identify('after-huge', { ok: true }) },
      ],
    });
    await producer.disconnect();

    const dead = await deadLetterOf('huge', 4);
    expect(header(dead, KafkaHeaders.deadLetterReason)).toBe('TOO_LARGE');
    expect(header(dead, KafkaHeaders.deadLetterTruncated)).toBe('value');
    expect(header(dead, KafkaHeaders.deadLetterOriginalBytes)).toBe(String(huge.length));
    expect(header(dead, KafkaHeaders.deadLetterOriginalSha256)).toBe(
      createHash('sha256').update(huge).digest('hex'),
    );
    expect(dead.value?.length).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(huge.subarray(0, dead.value?.length).equals(dead.value as Buffer)).toBe(true);
    await expect(eventually(() => profile('user:after-huge'), 60_000)).resolves.toBeDefined();
  });
});
