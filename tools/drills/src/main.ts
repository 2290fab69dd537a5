import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DRILLS, type DrillName, type DrillOptions, runDrills } from './drills';
import { formatReport } from './report';

const whole = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number ≥ 0');
  return n;
};
const positive = (value: string): number => {
  const n = whole(value);
  if (n === 0) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
};
const drillList = (value: string): DrillName[] => {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(DRILLS as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown drill ${unknown.join(', ')} (${DRILLS.join(', ')})`);
  return names as DrillName[];
};
const env = process.env;

const program = new Command('drills')
  .description(
    'Reliability drills: kill -9 and restart each service, stop and kill the broker and the store, ' +
      'all while a seeded stream flows, plus poison records in every consumed topic; then compares ' +
      'the entered / exited stream, IsMember / CountMembers and webhook deliveries with an oracle ' +
      'computed from the input. Runs its own broker and store (deploy/local) under --home.',
  )
  .addOption(
    new Option('--drills <list>', `comma-separated, in order (${DRILLS.join(',')})`)
      .default([...DRILLS], 'all')
      .argParser(drillList),
  )
  .option('--no-poison', 'skip the poison records')
  .option('--rate <events/s>', 'upstream events per second', positive, 50)
  .option('--profiles <n>', 'distinct users in the stream', positive, 200)
  .option('--seed <n>', 'seed of the stream', whole, 20261130)
  .option('--warmup <s>', 'stream time before the first fault', whole, 20)
  .option('--between <s>', 'stream time after each recovery, before the next fault', whole, 15)
  .option('--outage <s>', 'how long the broker or the store stays down', whole, 10)
  .option('--settle <s>', 'how long the pipeline may take to catch up at the end', positive, 180)
  .option('--partitions <n>', 'partitions of every topic (KAFKA_PARTITIONS)', positive, 4)
  .option('--max-message-bytes <n>', 'the services’ KAFKA_MAX_MESSAGE_BYTES', positive, 1_048_576)
  .option(
    '--home <dir>',
    'home (SHOAL_HOME) of the drills’ own broker and store',
    env.SHOAL_DRILLS_HOME ?? '.shoal/drills',
  )
  .option('--kafka-port <port>', 'broker port', positive, Number(env.SHOAL_KAFKA_PORT ?? 39092))
  .option(
    '--kafka-controller-port <port>',
    'broker controller port',
    positive,
    Number(env.SHOAL_KAFKA_CONTROLLER_PORT ?? 39093),
  )
  .option('--mongo-port <port>', 'store port', positive, Number(env.SHOAL_MONGO_PORT ?? 38017))
  .option('--keep-infra', 'leave the broker and the store running afterwards', false)
  .option('--keep-data', 'keep the run’s topics and databases (removed by default)', false)
  .option('--out <dir>', 'where the report (JSON, Markdown) and service logs go (<home>/results)');

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{
    drills: DrillName[];
    poison: boolean;
    rate: number;
    profiles: number;
    seed: number;
    warmup: number;
    between: number;
    outage: number;
    settle: number;
    partitions: number;
    maxMessageBytes: number;
    home: string;
    kafkaPort: number;
    kafkaControllerPort: number;
    mongoPort: number;
    keepInfra: boolean;
    keepData: boolean;
    out?: string;
  }>();
  const runId = randomBytes(3).toString('hex');
  const out = resolve(o.out ?? join(o.home, 'results'), runId);
  mkdirSync(out, { recursive: true });
  const options: DrillOptions = {
    drills: o.drills,
    poison: o.poison,
    profiles: o.profiles,
    ratePerSecond: o.rate,
    seed: o.seed,
    warmupSeconds: o.warmup,
    betweenSeconds: o.between,
    outageSeconds: o.outage,
    settleSeconds: o.settle,
    partitions: o.partitions,
    maxMessageBytes: o.maxMessageBytes,
    home: resolve(o.home),
    kafkaPort: o.kafkaPort,
    kafkaControllerPort: o.kafkaControllerPort,
    mongoPort: o.mongoPort,
    keepInfrastructure: o.keepInfra,
    keepData: o.keepData,
    logDir: join(out, 'logs'),
    runId,
  };
  const began = Date.now();
  const report = await runDrills(options, (line) =>
    process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`),
  );
  writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2));
  const markdown = formatReport(report);
  writeFileSync(join(out, 'report.md'), markdown);
  process.stdout.write(markdown);
  process.stderr.write(`report and service logs in ${out}\n`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `drills failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
