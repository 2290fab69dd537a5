#!/usr/bin/env node
// Membership benchmark (not a test): run with `node tools/bench/membership/bench.mjs` after
// `npm run build`, against running infrastructure (SHOAL_BENCH_KAFKA_BROKERS / SHOAL_BENCH_MONGO_URL,
// else the SHOAL_TEST_* variables, else ./shoal's local ports). In one run, on the same broker:
//
//   1. a plain kafkajs pass-through (consume a record, produce it elsewhere) of the stream;
//   2. the same stream through the membership service (the built process) with 100 REALTIME
//      segments over BENCH_PROFILES profiles: events/s through evaluation, RSS;
//   3. produced → segment.entered latency (p50/p99) at a steady rate, with IsMember calls
//      (p50/p99) running meanwhile;
//   4. how late time-driven exits fire (a one-minute window sliding past its last event).
//
// Prints a markdown report. Everything it creates (topics with a random prefix, a database) is
// removed at the end.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const require = createRequire(join(root, 'package.json'));
const { create, toBinary, fromBinary, fromJson } = require('@bufbuild/protobuf');
const { ValueSchema, timestampFromMs, timestampMs } = require('@bufbuild/protobuf/wkt');
const contracts = require('@shoal/contracts');
const platform = require('@shoal/platform');
const { startServiceProcess, freePort } = require('@shoal/local-infra');
const { Kafka, logLevel } = require('kafkajs');
const { MongoClient } = require('mongodb');

const BROKERS = (
  process.env.SHOAL_BENCH_KAFKA_BROKERS ??
  process.env.SHOAL_TEST_KAFKA_BROKERS ??
  '127.0.0.1:19092'
).split(',');
const MONGO_URL =
  process.env.SHOAL_BENCH_MONGO_URL ??
  process.env.SHOAL_TEST_MONGO_URL ??
  'mongodb://127.0.0.1:27027/?directConnection=true';
const PROFILES = Number(process.env.BENCH_PROFILES ?? 100_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 300_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 200);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 30);
const TIMER_PROFILES = 300;

const id = randomBytes(3).toString('hex');
const prefix = `bench${id}.`;
const database = `bench_${id}_membership`;
const names = new platform.TopicNames(prefix);
const kafka = new Kafka({ clientId: `bench-${id}`, brokers: BROKERS, logLevel: logLevel.NOTHING });
const protobufHeaders = { [contracts.KafkaHeaders.contentType]: contracts.ContentTypes.protobuf };
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const profileId = (i) => `user:b${i}`;

// ---- the stream ---------------------------------------------------------------------------

const EVENT_NAMES = ['Order Completed', 'Page Viewed', 'Email Opened', 'Content Viewed'];

function* stream(count) {
  // mulberry32: a deterministic stream, the same every run
  let a = 7;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const now = Date.now();
  for (let i = 0; i < count; i += 1) {
    const profile = profileId(Math.floor(next() * PROFILES));
    const roll = next();
    const at = now - Math.floor(next() * 30 * 86_400_000);
    let change;
    if (roll < 0.08) {
      change = {
        case: 'traitsChanged',
        value: {
          changes: [{ key: 'plan', value: fromJson(ValueSchema, next() < 0.3 ? 'pro' : 'free') }],
        },
      };
    } else if (roll < 0.1) {
      change = { case: 'tagsChanged', value: { added: next() < 0.5 ? ['vip'] : [], removed: [] } };
    } else {
      const name = EVENT_NAMES[Math.floor(next() * EVENT_NAMES.length)];
      change = {
        case: 'eventRecorded',
        value: {
          name,
          properties: {
            total: Math.floor(next() * 400),
            topic: next() < 0.3 ? 'retirement' : 'other',
          },
        },
      };
    }
    yield create(contracts.ProfileChangeSchema, {
      id: `bench-${i}`,
      subjectId: profile,
      profileId: profile,
      occurredAt: timestampFromMs(at),
      recordedAt: timestampFromMs(now),
      change,
    });
  }
}

function segments() {
  const rules = [];
  const windows = [undefined, { lastDays: 7 }, { lastDays: 30 }, { lastHours: 48 }];
  for (let i = 0; i < 30; i += 1) {
    const window = windows[i % windows.length];
    rules.push({
      event: {
        name: EVENT_NAMES[i % 4],
        count: { gte: 1 + (i % 4) },
        ...(window ? { window } : {}),
      },
    });
  }
  for (let i = 0; i < 20; i += 1) {
    const window = windows[i % windows.length];
    rules.push({
      event: {
        name: 'Order Completed',
        sum: { property: 'total', gt: 100 + 50 * i },
        ...(window ? { window } : {}),
      },
    });
  }
  for (let i = 0; i < 20; i += 1) {
    rules.push({
      event: {
        name: EVENT_NAMES[i % 4],
        lastSeen: i % 2 === 0 ? { before: { daysAgo: 5 + i } } : { withinLast: { days: 3 + i } },
      },
    });
  }
  for (let i = 0; i < 10; i += 1)
    rules.push({ trait: { path: 'plan', equals: i % 2 ? 'pro' : 'free' } });
  for (let i = 0; i < 16; i += 1) {
    rules.push({
      all: {
        conditions: [
          { event: { name: 'Order Completed', count: { gt: 1 } } },
          { event: { name: 'Page Viewed', count: { eq: 0 }, window: { lastDays: 10 + i } } },
          { trait: { path: 'plan', equals: 'pro' } },
        ],
      },
    });
  }
  rules.push({ hasTag: 'vip' });
  rules.push({
    event: {
      name: 'Content Viewed',
      where: [{ path: 'topic', equals: 'retirement' }],
      count: { gte: 3 },
    },
  });
  const definitions = rules.map((condition, i) => ({ id: `seg_b${i}`, condition }));
  definitions.push({ id: 'seg_ping', condition: { event: { name: 'Ping', count: { gte: 1 } } } });
  definitions.push({
    id: 'seg_beat',
    condition: { event: { name: 'Beat', count: { gte: 1 }, window: { lastMinutes: 1 } } },
  });
  return definitions;
}

// ---- kafka helpers --------------------------------------------------------------------------

async function produceAll(topic, messages) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let start = 0; start < messages.length; start += 2_000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(start, start + 2_000) });
    }
  } finally {
    await producer.disconnect();
  }
}

async function passThrough(messages) {
  const input = `${prefix}passthrough.in`;
  const output = `${prefix}passthrough.out`;
  await produceAll(input, messages);
  const consumer = kafka.consumer({ groupId: `${prefix}passthrough` });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: input, fromBeginning: true });
  let seen = 0;
  let first = 0;
  const done = new Promise((resolveDone) => {
    void consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = Date.now();
        await producer.send({
          topic: output,
          acks: -1,
          messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
        });
        seen += batch.messages.length;
        if (seen >= messages.length) resolveDone(Date.now());
      },
    });
  });
  const end = await done;
  await consumer.disconnect();
  await producer.disconnect();
  return messages.length / ((end - first) / 1000);
}

async function metricsOf(port) {
  let text;
  for (let attempt = 0; text === undefined; attempt += 1) {
    try {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } catch (error) {
      // a busy service may answer late; a dead one never
      if (attempt >= 30) throw error;
      await sleep(1_000);
    }
  }
  const value = (name, filter = '') =>
    text
      .split('\n')
      .filter((line) => line.startsWith(name) && line.includes(filter))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  return {
    consumed: value('shoal_kafka_consumed_total', 'profiles.changes'),
    rss: value('process_resident_memory_bytes'),
    heap: value('nodejs_heap_size_used_bytes'),
  };
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const report = [];
  const started = Date.now();
  const load = [loadavg()[0]];
  const keysDir = mkdtempSync(join(tmpdir(), 'shoal-bench-keys-'));
  const keys = await platform.ensureDevKeys(keysDir);
  const admin = kafka.admin();
  await admin.connect();
  const topics = [
    contracts.profileChangesTopic,
    contracts.listMembershipTopic,
    contracts.segmentDefinitionsTopic,
    contracts.membershipCommandsTopic,
    contracts.membershipChangesTopic,
    contracts.segmentStatusTopic,
    contracts.jobProgressTopic,
    contracts.membershipDeadLetterTopic,
  ];
  const layout = { partitions: PARTITIONS, replicationFactor: 1, maxMessageBytes: 1024 * 1024 };
  const passthroughSpec = (name) => ({ ...contracts.profileChangesTopic, name });
  const wanted = [...topics, passthroughSpec('passthrough.in'), passthroughSpec('passthrough.out')];
  // creating topics on a busy broker can outlast kafkajs's wait for leaders: try until they exist
  for (let attempt = 0; ; attempt += 1) {
    try {
      await platform.ensureTopics(admin, wanted, names, layout);
      break;
    } catch (error) {
      if (attempt >= 10) throw error;
      await sleep(1_000);
    }
  }

  log(`encoding ${EVENTS} profile changes over ${PROFILES} profiles`);
  const messages = [];
  for (const change of stream(EVENTS)) {
    messages.push({
      key: change.subjectId,
      value: Buffer.from(toBinary(contracts.ProfileChangeSchema, change)),
      headers: protobufHeaders,
    });
  }

  log('pass-through');
  const passRate = await passThrough(messages);
  log(`pass-through: ${Math.round(passRate)} records/s`);

  log('definitions and the stream');
  const definitions = segments();
  await produceAll(
    names.of(contracts.segmentDefinitionsTopic),
    definitions.map(({ id: segmentId, condition }) => ({
      key: segmentId,
      value: Buffer.from(
        toBinary(
          contracts.SegmentSchema,
          create(contracts.SegmentSchema, {
            id: segmentId,
            name: segmentId,
            kind: contracts.SegmentKind.DYNAMIC,
            status: contracts.SegmentStatus.ACTIVE,
            visibility: contracts.Visibility.SHARED,
            owner: 'bench',
            version: 1n,
            rule: fromJson(contracts.RuleSchema, { condition }),
          }),
        ),
      ),
      headers: protobufHeaders,
    })),
  );
  await produceAll(names.of(contracts.profileChangesTopic), messages);

  log('starting membership');
  const logs = mkdtempSync(join(tmpdir(), 'shoal-bench-'));
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const launchedAt = Date.now();
  const service = await startServiceProcess({
    name: 'membership',
    env: {
      SHOAL_ENV: 'test',
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: BROKERS.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS: String(PARTITIONS),
      MONGO_URL,
      MONGO_DATABASE: database,
      AUTH_JWKS_FILE: keys.jwksFile,
      SERVICE_TOKEN_KEY_FILE: keys.signingKeyFile,
    },
    grpcPort,
    httpPort,
    logFile: join(logs, 'membership.log'),
  });
  try {
    const readyAfter = Date.now() - launchedAt;
    const baseline = await metricsOf(httpPort);
    let first = 0;
    let current = baseline;
    for (;;) {
      current = await metricsOf(httpPort);
      if (first === 0 && current.consumed > 0) first = Date.now();
      if (current.consumed >= EVENTS) break;
      await sleep(200);
    }
    const rate = EVENTS / ((Date.now() - first) / 1000);
    const transitions = (
      await admin.fetchTopicOffsets(names.of(contracts.membershipChangesTopic))
    ).reduce((sum, p) => sum + Number(p.high), 0);
    const loaded = await metricsOf(httpPort);
    log(`membership: ${Math.round(rate)} events/s; RSS ${Math.round(loaded.rss / 2 ** 20)} MiB`);
    load.push(loadavg()[0]);

    // checkpoints catching up: the group's committed offsets reach the end
    const committedAt = Date.now();
    const ends = await admin.fetchTopicOffsets(names.of(contracts.profileChangesTopic));
    for (;;) {
      const [offsets] = await admin.fetchOffsets({
        groupId: names.group('membership'),
        topics: [names.of(contracts.profileChangesTopic)],
      });
      const behind = offsets.partitions.reduce((sum, p) => {
        const end = Number(ends.find((e) => e.partition === p.partition)?.high ?? 0);
        return sum + Math.max(0, end - Number(p.offset));
      }, 0);
      if (behind === 0) break;
      await sleep(500);
    }
    const checkpointLag = Date.now() - committedAt;

    // ---- latency and IsMember under load --------------------------------------------------
    log('latency and IsMember under load');
    const signing = await platform.loadSigningKey(keys.signingKeyFile);
    const token = await platform.signToken(signing, {
      subject: 'bench',
      issuer: 'shoal',
      audience: 'shoal',
      ttlSeconds: 3_600,
      now: new Date(),
    });
    const client = platform.createGrpcClient(contracts.MembershipService, {
      address: `127.0.0.1:${grpcPort}`,
      token: () => token,
    });
    const sent = new Map();
    const latencies = [];
    const exits = [];
    const watcher = kafka.consumer({ groupId: `${prefix}watcher` });
    await watcher.connect();
    await watcher.subscribe({
      topic: names.of(contracts.membershipChangesTopic),
      fromBeginning: false,
    });
    await new Promise((ready) => {
      watcher.on(watcher.events.GROUP_JOIN, () => ready());
      void watcher.run({
        eachMessage: async ({ message }) => {
          const t = fromBinary(contracts.MembershipTransitionSchema, message.value);
          const arrived = Date.now();
          if (t.segmentId === 'seg_ping' && t.kind === contracts.TransitionKind.ENTERED) {
            const at = sent.get(t.profileId);
            if (at !== undefined) latencies.push(arrived - at);
          }
          if (t.segmentId === 'seg_beat' && t.kind === contracts.TransitionKind.EXITED)
            exits.push(arrived - timestampMs(t.occurredAt));
        },
      });
    });
    let querying = true;
    const isMember = [];
    const callers = Array.from({ length: 8 }, async (_, c) => {
      let n = c;
      while (querying) {
        const began = performance.now();
        await client.isMember({
          profileId: profileId((n * 7919) % PROFILES),
          segmentIds: ['seg_b0', 'seg_b31', 'seg_b51', 'seg_b97'],
        });
        isMember.push(performance.now() - began);
        n += 8;
      }
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const pingEnd = Date.now() + LATENCY_SECONDS * 1000;
    let ping = 0;
    while (Date.now() < pingEnd) {
      const tickStart = Date.now();
      const batch = [];
      for (let i = 0; i < LATENCY_RATE / 10; i += 1) {
        const profile = `user:ping${ping}`;
        ping += 1;
        batch.push({
          key: profile,
          value: Buffer.from(
            toBinary(
              contracts.ProfileChangeSchema,
              create(contracts.ProfileChangeSchema, {
                id: `ping-${ping}`,
                subjectId: profile,
                profileId: profile,
                occurredAt: timestampFromMs(Date.now()),
                change: { case: 'eventRecorded', value: { name: 'Ping' } },
              }),
            ),
          ),
          headers: protobufHeaders,
        });
        sent.set(profile, Date.now());
      }
      await producer.send({
        topic: names.of(contracts.profileChangesTopic),
        acks: -1,
        messages: batch,
      });
      await sleep(Math.max(0, 100 - (Date.now() - tickStart)));
    }
    await sleep(3_000);
    querying = false;
    await Promise.all(callers);
    load.push(loadavg()[0]);

    // ---- timers -------------------------------------------------------------------------
    log('time-driven exits (a one-minute window sliding past its event; about two minutes)');
    const beats = Array.from({ length: TIMER_PROFILES }, (_, i) => profileId(i * 13));
    await producer.send({
      topic: names.of(contracts.profileChangesTopic),
      acks: -1,
      messages: beats.map((profile, i) => ({
        key: profile,
        value: Buffer.from(
          toBinary(
            contracts.ProfileChangeSchema,
            create(contracts.ProfileChangeSchema, {
              id: `beat-${i}`,
              subjectId: profile,
              profileId: profile,
              occurredAt: timestampFromMs(Date.now()),
              change: { case: 'eventRecorded', value: { name: 'Beat' } },
            }),
          ),
        ),
        headers: protobufHeaders,
      })),
    });
    const timerDeadline = Date.now() + 180_000;
    while (exits.length < TIMER_PROFILES && Date.now() < timerDeadline) await sleep(1_000);
    await producer.disconnect();
    await watcher.disconnect();
    client.close();

    report.push(
      `## Membership benchmark — ${new Date(started).toISOString()}`,
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; 1-minute load average ${load.map((l) => l.toFixed(1)).join(' → ')} (shared with other work).`,
      `Broker ${BROKERS.join(',')}, store ${MONGO_URL.replace(/\/\/[^@]*@/, '//')} (the embedded mongo-java-server unless set otherwise); ${PARTITIONS} partitions; one membership process.`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| plain kafkajs pass-through (consume → produce) | ${Math.round(passRate)} records/s |`,
      `| membership: events/s through evaluation (${definitions.length} REALTIME segments, ${PROFILES} profiles, ${EVENTS} changes) | ${Math.round(rate)} events/s (${((rate / passRate) * 100).toFixed(0)}% of the pass-through) |`,
      `| transitions those changes caused (published as they were decided) | ${transitions} |`,
      `| checkpoints catching up after the last event was evaluated | ${(checkpointLag / 1000).toFixed(1)} s |`,
      `| start-up to ready (definitions read, partitions claimed) | ${(readyAfter / 1000).toFixed(1)} s |`,
      `| produced → segment.entered consumed, ${LATENCY_RATE}/s for ${LATENCY_SECONDS} s (${latencies.length} samples) | p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms |`,
      `| IsMember (4 segments) under that load, 8 concurrent callers (${isMember.length} calls) | p50 ${percentile(isMember, 50).toFixed(1)} ms, p99 ${percentile(isMember, 99).toFixed(1)} ms |`,
      `| time-driven exits: seen downstream after their instant (${exits.length} of ${TIMER_PROFILES}) | p50 ${percentile(exits, 50)} ms, p99 ${percentile(exits, 99)} ms, max ${Math.max(...exits)} ms |`,
      `| RSS before the stream / after ${PROFILES} profiles | ${Math.round(baseline.rss / 2 ** 20)} MiB / ${Math.round(loaded.rss / 2 ** 20)} MiB (${Math.round((loaded.rss - baseline.rss) / 2 ** 20 / (PROFILES / 100_000))} MiB per 100k profiles) |`,
      `| JS heap in use before / after (not collected first) | ${Math.round(baseline.heap / 2 ** 20)} MiB / ${Math.round(loaded.heap / 2 ** 20)} MiB |`,
    );
  } catch (error) {
    const { tailOf } = require('@shoal/local-infra');
    log(`membership log (end):\n${tailOf(join(logs, 'membership.log'), 40).join('\n')}`);
    throw error;
  } finally {
    await service.kill('SIGKILL');
    rmSync(logs, { recursive: true, force: true });
    rmSync(keysDir, { recursive: true, force: true });
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
    const mongo = await new MongoClient(MONGO_URL).connect();
    await mongo.db(database).dropDatabase();
    await mongo.close();
  }
  process.stdout.write(`${report.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
    process.exit(1);
  },
);
