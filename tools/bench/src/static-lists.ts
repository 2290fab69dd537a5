import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentKind, SegmentService, listMembershipTopic } from '@shoal/contracts';
import { type LaunchedProcess, freePort, startServiceProcess, tailOf } from '@shoal/local-infra';
import {
  devKeyEnv,
  TopicNames,
  createGrpcClient,
  ensureDevKeys,
  loadSigningKey,
  signToken,
  waitUntil,
} from '@shoal/platform';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import {
  benchCommand,
  positiveWhole as count,
  runningKafkaOption,
  runningMongoOption,
} from './command-line';

const DESCRIPTION =
  'Static lists at scale, end to end: starts the built segments service (npm run build) on the ' +
  'given Kafka and store, then adds, pages, counts and removes members of one list over gRPC. ' +
  'Run it against an instance of your own (./shoal infra up with other ports, see README.md), ' +
  "so that nobody else's load distorts the figures.";

interface BenchOptions {
  readonly members: number;
  readonly batch: number;
  readonly page: number;
  readonly kafka: string;
  readonly mongo: string;
  readonly publishWait: number;
}

function benchOptions(): BenchOptions {
  return benchCommand('node tools/bench/dist/static-lists.js', DESCRIPTION)
    .option('--members <n>', 'ids on the list', count, 100_000)
    .option('--batch <n>', 'ids per AddListMembers / RemoveListMembers call', count, 100_000)
    .option('--page <n>', 'page size when listing', count, 10_000)
    .addOption(runningKafkaOption())
    .addOption(runningMongoOption())
    .option(
      '--publish-wait <seconds>',
      'longest wait for the member changes to reach Kafka',
      count,
      300,
    )
    .parse()
    .opts<BenchOptions>();
}

const out = (line: string) => process.stdout.write(`${line}\n`);

interface Step {
  readonly name: string;
  readonly ids: number;
  readonly seconds: number;
  readonly note?: string;
}

async function main(): Promise<void> {
  const options = benchOptions();
  const { members, batch, page: pageSize, kafka: brokerList, mongo: mongoUrl } = options;
  const publishWaitMs = options.publishWait * 1000;

  const run = randomBytes(4).toString('hex');
  const work = mkdtempSync(join(tmpdir(), 'shoal-bench-'));
  const topicPrefix = `bench${run}.`;
  const database = `bench${run}_segments`;
  const brokers = brokerList.split(',');
  const kafka = new Kafka({ clientId: `bench-${run}`, brokers, logLevel: logLevel.NOTHING });
  const topic = new TopicNames(topicPrefix).of(listMembershipTopic);
  const keys = await ensureDevKeys(join(work, 'keys'));
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const logFile = join(work, 'segments.log');

  out(`store ${mongoUrl}, kafka ${brokerList}; ${members} ids, ${batch} per call`);
  let service: LaunchedProcess | undefined;
  let progress = 'starting the service';
  const consumer = kafka.consumer({ groupId: `bench-${run}` });
  try {
    service = await startServiceProcess({
      name: 'segments',
      grpcPort,
      httpPort,
      logFile,
      env: {
        SHOAL_ENV: 'development',
        LOG_LEVEL: 'warn',
        KAFKA_BROKERS: brokerList,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        MONGO_URL: mongoUrl,
        MONGO_DATABASE: database,
        ...devKeyEnv(keys),
        STATIC_LIST_MAX_MEMBERS: String(Math.max(members, 1_000_000)),
        GRPC_MAX_MESSAGE_BYTES: String(64 * 1024 * 1024),
      },
    });
    const token = await signToken(await loadSigningKey(keys.userSigningKeyFile), {
      subject: 'bench',
      issuer: 'shoal',
      audience: 'shoal',
      ttlSeconds: 3600,
      now: new Date(),
    });
    const client = createGrpcClient(SegmentService, {
      address: `127.0.0.1:${grpcPort}`,
      token: () => token,
      deadlineMs: 600_000,
      maxMessageBytes: 64 * 1024 * 1024,
    });

    let published = 0;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch: records }) => {
        published += records.messages.length;
      },
    });
    const publishedReach = async (count: number, since: number): Promise<Step> => {
      await waitUntil(() => published >= count, { timeoutMs: publishWaitMs, intervalMs: 50 });
      const seconds = (Date.now() - since) / 1000;
      return published >= count
        ? { name: 'published', ids: count, seconds, note: 'since the first call of the step' }
        : { name: 'published', ids: published, seconds, note: `gave up; ${count} expected` };
    };

    const { segment } = await client.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: `bench ${run}` },
    });
    const listId = segment!.id;
    const ids = Array.from({ length: members }, () => `user:${randomBytes(8).toString('hex')}`);
    const steps: Step[] = [];

    let started = Date.now();
    let added = 0;
    for (let i = 0; i < ids.length; i += batch) {
      progress = `adding, ${added} of ${members} added after ${since(started)}`;
      added += (await client.addListMembers({ listId, memberIds: ids.slice(i, i + batch) })).added;
    }
    steps.push(timed('add', added, started));
    steps.push(await publishedReach(members, started));

    started = Date.now();
    const paged: string[] = [];
    let pageToken = '';
    do {
      progress = `paging, ${paged.length} of ${members} read after ${since(started)}`;
      const page = await client.listListMembers({ listId, page: { pageSize, pageToken } });
      paged.push(...page.memberIds);
      pageToken = page.nextPageToken;
    } while (pageToken);
    steps.push(timed('page all', paged.length, started));
    const sorted = [...ids].sort();
    if (paged.length !== sorted.length || paged.some((id, i) => id !== sorted[i])) {
      throw new Error(`paging returned ${paged.length} ids, not the ${members} added in id order`);
    }

    started = Date.now();
    progress = 'counting';
    const counted = Number((await client.countListMembers({ listId })).memberCount);
    steps.push(timed('count', counted, started));
    if (counted !== members) throw new Error(`counted ${counted} members, not ${members}`);

    started = Date.now();
    let removed = 0;
    for (let i = 0; i < ids.length; i += batch) {
      progress = `removing, ${removed} of ${members} removed after ${since(started)}`;
      removed += (await client.removeListMembers({ listId, memberIds: ids.slice(i, i + batch) }))
        .removed;
    }
    steps.push(timed('remove', removed, started));
    steps.push(await publishedReach(2 * members, started));
    if (added !== members || removed !== members) {
      throw new Error(`added ${added} and removed ${removed}, expected ${members} each`);
    }
    client.close();
    report(steps);
  } catch (error) {
    out(`failed while ${progress}: ${(error as Error).message}`);
    for (const line of tailOf(logFile, 10)) out(line.slice(0, 400));
    process.exitCode = 1;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await service?.kill('SIGTERM');
    await cleanUp({ kafka, topicPrefix, mongoUrl, database });
    rmSync(work, { recursive: true, force: true });
  }
}

const since = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)} s`;

function timed(name: string, ids: number, started: number): Step {
  return { name, ids, seconds: (Date.now() - started) / 1000 };
}

function report(steps: readonly Step[]): void {
  out('');
  out('| step      |     ids | seconds |   ids/s | note');
  out('| --------- | ------: | ------: | ------: | ----');
  for (const s of steps) {
    const rate = s.seconds > 0 ? Math.round(s.ids / s.seconds) : 0;
    out(
      `| ${s.name.padEnd(9)} | ${String(s.ids).padStart(7)} | ${s.seconds.toFixed(2).padStart(7)} | ${String(rate).padStart(7)} | ${s.note ?? ''}`,
    );
  }
}

async function cleanUp({
  kafka,
  topicPrefix,
  mongoUrl,
  database,
}: {
  kafka: Kafka;
  topicPrefix: string;
  mongoUrl: string;
  database: string;
}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
  const mongo = await MongoClient.connect(mongoUrl);
  await mongo.db(database).dropDatabase();
  await mongo.close();
}

void main();
