import {
  IdentityKind,
  ProfileService,
  SegmentKind,
  SegmentService,
  Visibility,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { SERVICE_PORTS } from '@shoal/local-infra';
import { TopicNames, createGrpcClient, retry } from '@shoal/platform';
import { Kafka, logLevel } from 'kafkajs';
import { type LocalStack, PROFILE_READER_GROUP } from './local-stack';

const customers = [
  { userId: 'demo-ann', traits: { name: 'Ann', plan: 'pro', marketing_consent: true } },
  { userId: 'demo-bob', traits: { name: 'Bob', plan: 'free', marketing_consent: false } },
];

/** How long the demo waits for ingestion to have handled what it sent. */
const UNTIL_INGESTED = { timeoutMs: 30_000, delayMs: 250 };

/** What upstream systems would send: Segment-spec JSON, one malformed record among them. */
function demoEvents(runId: string) {
  const at = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
  const events = customers.flatMap(({ userId, traits }, i) => [
    {
      type: 'identify',
      messageId: `${runId}-${userId}-identify`,
      userId,
      traits,
      timestamp: at(30),
    },
    {
      type: 'track',
      messageId: `${runId}-${userId}-order-1`,
      userId,
      event: 'Order Completed',
      properties: { total: 420 + i * 100 },
      timestamp: at(20),
    },
    {
      type: 'track',
      messageId: `${runId}-${userId}-order-2`,
      userId,
      event: 'Order Completed',
      properties: { total: 510 },
      timestamp: at(2),
    },
  ]);
  return [
    ...events.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
    { key: 'broken', value: '{"type": "track", "event": "Missing Ids"' },
  ];
}

/**
 * Sends customer events into the upstream topic the way an upstream system would, then reads
 * the resulting profiles back over gRPC with a user token.
 */
export async function runDemo(stack: LocalStack, out: (line: string) => void): Promise<void> {
  const names = new TopicNames('');
  const kafka = new Kafka({
    clientId: 'shoal-demo',
    brokers: stack.infra.endpoints.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const deadLettersBefore = await countRecords(admin, names.of(upstreamEventsDeadLetterTopic));
  const producer = kafka.producer();
  await producer.connect();
  const runId = Date.now().toString(36);
  const records = demoEvents(runId);
  await producer.send({ topic: names.of(upstreamEventsTopic), messages: records });
  await producer.disconnect();
  out(
    `sent ${records.length} upstream events to ${names.of(upstreamEventsTopic)} (one of them malformed)`,
  );

  const token = await stack.token('demo-analyst', ['marketing', PROFILE_READER_GROUP], 600);
  const profiles = createGrpcClient(ProfileService, {
    address: `127.0.0.1:${SERVICE_PORTS.ingestion.grpc}`,
    token: () => token,
    deadlineMs: 5_000,
  });
  try {
    for (const { userId } of customers) {
      const { profile } = await retry(
        () => profiles.lookupProfile({ identity: { kind: IdentityKind.USER_ID, value: userId } }),
        UNTIL_INGESTED,
      );
      out(`profile ${profile?.id}: traits ${JSON.stringify(profile?.traits)}`);
    }
  } finally {
    profiles.close();
  }
  const deadLetters =
    (await retry(async () => {
      const n = await countRecords(admin, names.of(upstreamEventsDeadLetterTopic));
      if (n <= deadLettersBefore) throw new Error('not dead-lettered yet');
      return n;
    }, UNTIL_INGESTED)) - deadLettersBefore;
  await admin.disconnect();
  out(
    `${deadLetters} malformed record dead-lettered to ${names.of(upstreamEventsDeadLetterTopic)} with its reason in headers`,
  );
  await segmentsDemo(token, runId, out);
}

/** Defines a segment from a template and a static list of the demo customers over gRPC. */
async function segmentsDemo(
  token: string,
  runId: string,
  out: (line: string) => void,
): Promise<void> {
  const segments = createGrpcClient(SegmentService, {
    address: `127.0.0.1:${SERVICE_PORTS.segments.grpc}`,
    token: () => token,
    deadlineMs: 5_000,
  });
  try {
    const { segment } = await segments.createSegmentFromTemplate({
      templateId: 'repeat-purchasers-inactive',
      parameters: { inactive_days: 40, min_total: 800 },
      segment: {
        name: `Lapsed big spenders ${runId}`,
        visibility: Visibility.SHARED,
        tags: ['demo'],
      },
    });
    out(`segment ${segment?.id} "${segment?.name}" from template repeat-purchasers-inactive`);
    const { segment: list } = await segments.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: `Demo customers ${runId}`, tags: ['demo'] },
    });
    const memberIds = customers.map((c) => `user:${c.userId}`);
    const { added } = await segments.addListMembers({ listId: list!.id, memberIds });
    out(`static list ${list?.id} "${list?.name}" with ${added} members`);
    const { segment: edited } = await segments.updateSegment({
      id: segment!.id,
      expectedVersion: segment!.version,
      segment: { description: 'made by ./shoal demo' },
      updateMask: { paths: ['description'] },
    });
    const { changes } = await segments.getSegmentHistory({ id: edited!.id });
    out(
      `history of ${edited?.id}: ${changes.map((c) => `v${c.version} by ${c.changedBy}`).join(', ')}`,
    );
  } finally {
    segments.close();
  }
}

async function countRecords(admin: ReturnType<Kafka['admin']>, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}
