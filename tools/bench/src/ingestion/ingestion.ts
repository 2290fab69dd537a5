import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  profileChangesTopic,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { type LaunchedProcess, freePort, startServiceProcess, tailOf } from '@shoal/local-infra';
import { TopicNames, devKeyEnv, ensureDevKeys, waitUntil } from '@shoal/platform';
import { InvalidArgumentError, Option } from 'commander';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import {
  benchCommand,
  positiveWhole as count,
  runningKafkaOption,
  runningMongoOption,
} from '../command-line';
import { committed, passThrough, produceAll, seconds } from '../system/measures';
import { generateWorkload } from './workload';

const DESCRIPTION =
  'Ingestion throughput next to a plain kafkajs consume→produce pass-through, in one run on one ' +
  'broker: produces the records first, then times (1) a pass-through that copies them to another ' +
  'topic, (2) the built ingestion service (npm run build) taking them from the upstream topic ' +
  'until every record is durable (its offsets committed after the checkpoint that holds it), ' +
  '(3) the pass-through again. Run it against an instance of your own (./shoal infra up with ' +
  "other ports, see README.md), so that nobody else's load distorts the figures.";

interface BenchOptions {
  readonly records: number;
  readonly profiles: number;
  readonly partitions: number;
  readonly spread: 'sessions' | 'uniform';
  readonly kafka: string;
  readonly mongo: string;
  readonly timeout: number;
  /** INGEST_* settings for the service, NAME=VALUE. */
  readonly set: readonly string[];
}

function benchOptions(): BenchOptions {
  return benchCommand('node tools/bench/dist/ingestion/ingestion.js', DESCRIPTION)
    .option('--records <n>', 'upstream records', count, 200_000)
    .option('--profiles <n>', 'people they come from', count, 20_000)
    .option('--partitions <n>', 'partitions of the topics', count, 12)
    .addOption(
      new Option(
        '--spread <kind>',
        "sessions: each person's records within a twentieth of the stream; " +
          "uniform: every person's records spread over the whole stream",
      )
        .choices(['sessions', 'uniform'])
        .default('sessions'),
    )
    .addOption(runningKafkaOption())
    .addOption(runningMongoOption())
    .option('--timeout <seconds>', 'longest wait for ingestion to finish', count, 900)
    .option(
      '--set <NAME=VALUE>',
      "an INGEST_* setting of the ingestion service (repeatable), e.g. 'INGEST_CHECKPOINT_INTERVAL_MS=3000'",
      (value: string, previous: string[]) => {
        if (!/^INGEST_[A-Z_]+=\S*$/.test(value))
          throw new InvalidArgumentError('It must be INGEST_<NAME>=<value>.');
        return [...previous, value];
      },
      [] as string[],
    )
    .parse()
    .opts<BenchOptions>();
}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const values = benchOptions();
  const { records: count, partitions } = values;
  const run = randomBytes(4).toString('hex');
  const prefix = `bench${run}.`;
  const names = new TopicNames(prefix);
  const database = `bench${run}_ingestion`;
  const work = mkdtempSync(join(tmpdir(), 'shoal-bench-'));
  const kafka = new Kafka({
    clientId: `bench-${run}`,
    brokers: values.kafka.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const input = names.of(upstreamEventsTopic);
  const copies = `${prefix}bench.pass-through`;
  let service: LaunchedProcess | undefined;
  const logFile = join(work, 'ingestion.log');
  let progress = 'producing';
  try {
    const workload = generateWorkload(count, values.profiles, values.spread);
    out(
      `store ${values.mongo}, kafka ${values.kafka}; ${workload.records.length} records from ` +
        `${values.profiles} people (${Object.entries(workload.mix)
          .map(([type, n]) => `${n} ${type}`)
          .join(', ')}), spread: ${values.spread}, ${partitions} partitions` +
        (values.set.length > 0 ? `; ${values.set.join(' ')}` : ''),
    );
    await admin.createTopics({
      waitForLeaders: true,
      topics: [input, copies].map((topic) => ({ topic, numPartitions: partitions })),
    });
    let started = Date.now();
    await produceAll(kafka, input, workload.records);
    out(`produced in ${seconds(started).toFixed(1)} s`);

    // records/s of a plain copy of the same records, each run in a consumer group of its own
    const copyAll = (group: string) =>
      passThrough(kafka, input, copies, workload.records.length, `bench-${run}-${group}`);
    progress = 'the first pass-through';
    const before = await copyAll('a');
    out(`pass-through: ${Math.round(before)} records/s`);

    progress = 'starting the ingestion service';
    const keys = await ensureDevKeys(join(work, 'keys'));
    const grpcPort = await freePort();
    const httpPort = await freePort();
    service = await startServiceProcess({
      name: 'ingestion',
      grpcPort,
      httpPort,
      logFile,
      env: {
        SHOAL_ENV: 'development',
        LOG_LEVEL: 'warn',
        KAFKA_BROKERS: values.kafka,
        KAFKA_TOPIC_PREFIX: prefix,
        KAFKA_PARTITIONS: String(partitions),
        MONGO_URL: values.mongo,
        MONGO_DATABASE: database,
        ...devKeyEnv(keys),
        ...Object.fromEntries(
          values.set.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]),
        ),
      },
    });
    started = Date.now();
    progress = 'ingesting';
    const timeoutMs = values.timeout * 1000;
    await untilCommitted(
      admin,
      names.group('ingestion'),
      input,
      workload.records.length,
      timeoutMs,
    );
    const ingestion = seconds(started);
    out(`ingestion: ${ingestion.toFixed(1)} s until every record was durable`);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();

    progress = 'the second pass-through';
    const after = await copyAll('b');
    out(`pass-through again: ${Math.round(after)} records/s`);

    const changes = await recordsOn(admin, names.of(profileChangesTopic));
    const deadLetters = await recordsOn(admin, names.of(upstreamEventsDeadLetterTopic));
    report({
      records: workload.records.length,
      passThrough: [before, after],
      ingestion,
      changes,
      deadLetters,
      metrics,
    });
  } catch (error) {
    out(`failed while ${progress}: ${(error as Error).message}`);
    for (const line of tailOf(logFile, 10)) out(line.slice(0, 400));
    process.exitCode = 1;
  } finally {
    await service?.kill('SIGTERM');
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    await admin.disconnect();
    const mongo = await MongoClient.connect(values.mongo);
    await mongo.db(database).dropDatabase();
    await mongo.close();
    rmSync(work, { recursive: true, force: true });
  }
}

async function untilCommitted(
  admin: Admin,
  groupId: string,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  let records = 0;
  const all = await waitUntil(
    async () => {
      records = await committed(admin, groupId, topic);
      return records >= count;
    },
    { timeoutMs, intervalMs: 100 },
  );
  if (!all) throw new Error(`${records} of ${count} records committed`);
}

async function recordsOn(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** A metric's value from Prometheus text (the sum over its labels). */
function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function report(run: {
  records: number;
  /** records/s of the pass-through before and after the ingestion run */
  passThrough: readonly number[];
  ingestion: number;
  changes: number;
  deadLetters: number;
  metrics: string;
}): void {
  const passRates = run.passThrough.map(Math.round);
  const passRate = Math.round(passRates.reduce((a, b) => a + b, 0) / passRates.length);
  const ingestionRate = Math.round(run.records / run.ingestion);
  const cpu = metric(run.metrics, 'process_cpu_seconds_total');
  out('');
  out('| run                  | records/s | note');
  out('| -------------------- | --------: | ----');
  out(
    `| pass-through         | ${String(passRate).padStart(9)} | mean of ${passRates.join(' and ')} (before and after)`,
  );
  out(
    `| ingestion            | ${String(ingestionRate).padStart(9)} | ${((ingestionRate / passRate) * 100).toFixed(1)}% of the pass-through; until every record was durable`,
  );
  out('');
  out(
    `ingestion published ${run.changes} changes, dead-lettered ${run.deadLetters} records, wrote ` +
      `${metric(run.metrics, 'shoal_ingestion_checkpoint_profiles_total')} profile documents in ` +
      `${metric(run.metrics, 'shoal_ingestion_checkpoint_duration_seconds_count')} checkpoints ` +
      `taking ${metric(run.metrics, 'shoal_ingestion_checkpoint_duration_seconds_sum').toFixed(1)} s ` +
      `together (consumer batches: ${metric(run.metrics, 'shoal_kafka_batch_duration_seconds_sum').toFixed(1)} s ` +
      `summed over partitions), ` +
      `used ${cpu.toFixed(1)} CPU-seconds; records by outcome: ` +
      ['applied', 'duplicate', 'refused']
        .map(
          (o) =>
            `${o} ${run.metrics
              .split('\n')
              .filter((l) => l.startsWith('shoal_ingestion_records_total{') && l.includes(`"${o}"`))
              .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)))
              .reduce((a, b) => a + b, 0)}`,
        )
        .join(', '),
  );
}

void main();
