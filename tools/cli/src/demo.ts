import { fromBinary, fromJson } from '@bufbuild/protobuf';
import {
  MembershipTransitionSchema,
  RuleSchema,
  type Segment,
  SegmentKind,
  TransitionKind,
  Visibility,
  membershipChangesTopic,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { PRODUCT_EXAMPLES, type ProductExampleName } from '@shoal/rules/testing';
import { TopicNames } from '@shoal/platform';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Connection, type ShoalClients, connect } from './api/connection';
import { briefly, firstCounts } from './demo/demo-counts';
import { DemoFeed, type UpstreamMessage, demoCustomers, profileIdOf } from './demo/demo-feed';
import { type BoardRow, pushRecent, renderBoard } from './demo/demo-summary';
import type { ServiceSupervisor } from './service-supervisor';

/** Where the demo sends and asks, and as whom: its token's subject owns the demo's segments. */
export interface DemoConnection extends Connection {
  readonly user: string;
}

export interface DemoOptions {
  /** Where the summary goes, a line at a time. */
  out(line: string): void;
  /** Redraw the summary in place until Ctrl-C (a terminal), or print it now and then and end. */
  readonly live: boolean;
  /** How long the feed runs; unset: until Ctrl-C when live, NON_LIVE_DURATION_MS otherwise. */
  readonly durationMs?: number;
  /** Ctrl-C: stops the feed and the summary, not the services. */
  readonly signal: AbortSignal;
  /** Restarts services that exit while the demo runs; the summary shows what it did. */
  readonly supervisor?: ServiceSupervisor;
}

/** The demo's segments: three of the product documents' examples and a static VIP list. */
const DEMO_SEGMENTS: readonly { example: ProductExampleName; name: string }[] = [
  { example: 'loyalButLapsed', name: 'Loyal but lapsed' },
  { example: 'winterBuyersNotOpening', name: 'Winter buyers not opening email' },
  { example: 'retirementReaders', name: 'Retirement readers' },
];
const VIP_LIST = 'VIP customers';
const DEMO_TAG = 'demo';

const CUSTOMERS = 200;
const EVENTS_PER_TICK = 12;
const TICK_MS = 1_000;
const NON_LIVE_DURATION_MS = 20_000;
const NON_LIVE_PRINT_EVERY_MS = 10_000;
const JOIN_TIMEOUT_MS = 15_000;
/** A count's deadline: the board goes on without it while a service is hung or restarting. */
const COUNT_DEADLINE_MS = 5_000;

/**
 * `./shoal up`'s demo: defines the product examples and a VIP list over gRPC, streams a
 * synthetic shop's history and then a live feed into the upstream topic, and shows segment sizes
 * and entered / exited events as they happen. Safe to run again: it reuses its segments.
 */
export async function runDemo(connection: DemoConnection, options: DemoOptions): Promise<void> {
  const user = connection.user;
  const clients = connect(connection);
  const names = new TopicNames(connection.topicPrefix);
  const kafka = new Kafka({
    clientId: 'shoal-demo',
    brokers: [...connection.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `shoal-demo-${process.pid}-${Date.now()}` });
  try {
    // the board's rows, filled once the segments exist; transitions of others are ignored
    const rows = new Map<string, BoardRow>();
    const recent: string[] = [];

    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    const deadLettersBefore = await countRecords(admin, names.of(upstreamEventsDeadLetterTopic));
    const joined = new Promise<void>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, () => resolve());
      setTimeout(resolve, JOIN_TIMEOUT_MS).unref();
    });
    await consumer.subscribe({ topic: names.of(membershipChangesTopic), fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const t = fromBinary(MembershipTransitionSchema, message.value);
        const row = rows.get(t.segmentId);
        if (!row) return;
        const entered = t.kind === TransitionKind.ENTERED;
        rows.set(t.segmentId, {
          ...row,
          entered: row.entered + (entered ? 1 : 0),
          exited: row.exited + (entered ? 0 : 1),
        });
        pushRecent(recent, `${entered ? 'entered' : 'exited '}  ${row.name}  ${t.profileId}`);
      },
    });
    await joined;

    // following the transitions before the segments exist, so a new segment's first members
    // (computed over the profiles already known) are seen entering too
    const began = Date.now();
    const created = new Set<string>();
    const segments = await ensureSegments(clients, user, created, options.out);
    const list = await ensureVipList(clients, user, created, options.out);
    for (const s of [...segments, list]) {
      // a segment made now had no members before: its change counts from zero
      rows.set(s.id, {
        id: s.id,
        name: s.name,
        entered: 0,
        exited: 0,
        ...(created.has(s.id) ? { firstCount: 0 } : {}),
      });
    }
    await firstCounts(() => countAll(clients, segments, list.id, rows), options);
    const customers = demoCustomers(CUSTOMERS);
    const runId = `demo-${Date.now().toString(36)}`;
    const feed = new DemoFeed(customers, runId, Date.now() % 100_000);
    const history = feed.history(new Date());
    await send(producer, names.of(upstreamEventsTopic), history);
    await producer.send({
      topic: names.of(upstreamEventsTopic),
      messages: [{ key: 'broken', value: '{"type": "track", "event": "Missing Ids"' }],
    });
    options.out(
      `sent the history of ${customers.length} customers (${history.length} events, and one malformed record) to ${names.of(upstreamEventsTopic)}`,
    );
    const vips = customers.filter((c) => c.vip).map(profileIdOf);
    const { added } = await clients.segments.addListMembers({ listId: list.id, memberIds: vips });
    options.out(`${VIP_LIST}: ${vips.length} VIPs on the list (${added} new)`);
    options.out(
      options.live
        ? 'streaming a live feed; Ctrl-C stops it (the services keep running)\n'
        : 'streaming a live feed for a while (not a terminal: a bounded run)\n',
    );

    const duration = options.durationMs ?? (options.live ? Infinity : NON_LIVE_DURATION_MS);
    let eventsSent = history.length + 1;
    let drawn = 0;
    let printedAt = began;
    let deadLettered = 0;
    let feedPaused: string | undefined;
    const board = async () => {
      // a service hung, restarting or away leaves the last figures on the board, with why
      const notes: string[] = feedPaused === undefined ? [] : [feedPaused];
      await countAll(clients, segments, list.id, rows).catch((error: unknown) =>
        notes.push(`member counts not refreshed: ${briefly(error)}`),
      );
      await countRecords(admin, names.of(upstreamEventsDeadLetterTopic)).then(
        (records) => (deadLettered = records - deadLettersBefore),
        (error: unknown) => notes.push(`dead letters not counted: ${briefly(error)}`),
      );
      return renderBoard({
        elapsedMs: Date.now() - began,
        eventsSent,
        rows: [...rows.values()],
        recent,
        deadLettered,
        supervision: [...(options.supervisor?.summary() ?? []), ...notes],
      });
    };
    while (!options.signal.aborted && Date.now() - began < duration) {
      // not awaited: a restart waits for the service to be ready, the feed goes on meanwhile
      void options.supervisor?.check().catch(() => undefined);
      const tick = feed.tick(new Date(), EVENTS_PER_TICK);
      // a broker away (stopped, restarting) pauses the feed, not the demo: that tick is dropped
      try {
        await send(producer, names.of(upstreamEventsTopic), tick);
        eventsSent += tick.length;
        feedPaused = undefined;
      } catch (error) {
        feedPaused = `feed paused, ${tick.length} events not sent: ${briefly(error)}`;
      }
      await pause(TICK_MS, options.signal);
      if (options.live) {
        const lines = await board();
        // move up over the previous board and draw over it
        if (drawn > 0) options.out(`\x1b[${drawn}F\x1b[J`.concat(lines[0]));
        else options.out(lines[0]);
        for (const line of lines.slice(1)) options.out(line);
        drawn = lines.length;
      } else if (
        Date.now() - printedAt >= NON_LIVE_PRINT_EVERY_MS &&
        Date.now() - began + NON_LIVE_PRINT_EVERY_MS / 2 < duration
      ) {
        printedAt = Date.now();
        for (const line of await board()) options.out(line);
        options.out('');
      }
    }
    if (!options.live) for (const line of await board()) options.out(line);
    options.out(
      `\nthe demo feed stopped after ${eventsSent} events; the services keep running (./shoal down stops them)`,
    );
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    clients.close();
  }
}

/** Finds the demo's segments by name (a run before made them) or creates them. */
async function ensureSegments(
  clients: ShoalClients,
  owner: string,
  created: Set<string>,
  out: (line: string) => void,
): Promise<Segment[]> {
  const found: Segment[] = [];
  for (const { example, name } of DEMO_SEGMENTS) {
    const existing = await findDemoSegment(clients, owner, name);
    if (existing) {
      found.push(existing);
      continue;
    }
    const { description, json } = PRODUCT_EXAMPLES[example];
    const { segment } = await clients.segments.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name,
        description,
        tags: [DEMO_TAG],
        visibility: Visibility.SHARED,
        rule: fromJson(RuleSchema, json),
      },
    });
    out(`segment ${segment!.id} "${name}": ${description}`);
    created.add(segment!.id);
    found.push(segment!);
  }
  return found;
}

async function ensureVipList(
  clients: ShoalClients,
  owner: string,
  created: Set<string>,
  out: (line: string) => void,
) {
  const existing = await findDemoSegment(clients, owner, VIP_LIST);
  if (existing) return existing;
  const { segment } = await clients.segments.createSegment({
    kind: SegmentKind.STATIC_LIST,
    segment: { name: VIP_LIST, tags: [DEMO_TAG], visibility: Visibility.SHARED },
  });
  out(`static list ${segment!.id} "${VIP_LIST}"`);
  created.add(segment!.id);
  return segment!;
}

/** The user's own demo segment of that name: another user's shared one is theirs to change. */
async function findDemoSegment(
  clients: ShoalClients,
  owner: string,
  name: string,
): Promise<Segment | undefined> {
  const { segments } = await clients.segments.listSegments({
    search: name,
    tags: [DEMO_TAG],
    owners: [owner],
    page: { pageSize: 50 },
  });
  return segments.find((s) => s.name === name);
}

/** Member counts now, into the board's rows. */
async function countAll(
  clients: ShoalClients,
  segments: readonly Segment[],
  listId: string,
  rows: Map<string, BoardRow>,
): Promise<void> {
  const within = { deadlineMs: COUNT_DEADLINE_MS };
  const counts = await clients.membership.countMembers(
    { segmentIds: segments.map((s) => s.id) },
    within,
  );
  for (const c of counts.counts) updateCount(rows, c.segmentId, Number(c.memberCount));
  const listCount = await clients.segments.countListMembers({ listId }, within);
  updateCount(rows, listId, Number(listCount.memberCount));
}

function updateCount(rows: Map<string, BoardRow>, id: string, members: number): void {
  const row = rows.get(id);
  if (!row) return;
  rows.set(id, { ...row, members, firstCount: row.firstCount ?? members });
}

async function send(
  producer: ReturnType<Kafka['producer']>,
  topic: string,
  messages: readonly UpstreamMessage[],
): Promise<void> {
  for (let at = 0; at < messages.length; at += 500) {
    await producer.send({
      topic,
      messages: messages
        .slice(at, at + 500)
        .map((m) => ({ key: m.key, value: JSON.stringify(m.value) })),
    });
  }
}

async function countRecords(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** Waits, or less when Ctrl-C comes first. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
