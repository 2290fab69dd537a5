import { InvalidArgumentError, Option } from 'commander';
import { benchCommand, positiveWhole as whole, wholeOrZero } from '../command-line';

export const STAGES = [
  'passthrough',
  'e2e',
  'latency',
  'queries',
  'refresh',
  'footprint',
  'wide',
] as const;
export type Stage = (typeof STAGES)[number];

export interface BenchOptions {
  readonly profiles: number;
  readonly events: number;
  readonly segments: number;
  readonly partitions: number;
  readonly zipf: number;
  readonly everyProfile: boolean;
  readonly seed: number;
  readonly stages: readonly Stage[];
  readonly latencySeconds: number;
  readonly latencyWarmup: number;
  readonly latencyRate?: number;
  readonly probeEvery: number;
  readonly timers: number;
  readonly querySeconds: number;
  readonly concurrency: number;
  readonly queryThreads: number;
  readonly qps: number;
  readonly wideSegments: number;
  readonly wideDependent: number;
  readonly wideEvents: number;
  readonly wideTimeout: number;
  readonly listMembers: number;
  readonly kafka?: string;
  readonly mongo?: string;
  readonly home: string;
  readonly kafkaPort: number;
  readonly controllerPort: number;
  readonly mongoPort: number;
  readonly keepInfra: boolean;
  /** Where to keep the services' logs (they are removed with the run's files otherwise). */
  readonly keepLogs?: string;
  readonly cpuProf: boolean;
  readonly timeout: number;
  readonly out: string;
  readonly json: string;
}

const DESCRIPTION =
  'The whole-system benchmark of issue 21, in one run on one broker and store: a kafkajs ' +
  'pass-through (the ceiling), end-to-end events/s through ingestion + membership, ' +
  'event→segment.entered latency at half that rate, time-driven exit lateness, IsMember and ' +
  'GetProfileSegments under load, a SCHEDULED segment refresh, RSS and store bytes per profile, ' +
  'and 10,000 segments against 100. Starts its own Kafka and store with ./shoal infra up (unless ' +
  '--kafka and --mongo are given) and the built services (npm run build) as processes; writes ' +
  'the report between the markers of --out and the raw figures to --json; removes its topics, ' +
  'databases and processes at the end, also when interrupted.';

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('It must be above 0.');
  return n;
};

export function parseOptions(argv: readonly string[] = process.argv): BenchOptions {
  const program = benchCommand('npm run bench --', DESCRIPTION)
    .option('--profiles <n>', 'profiles the stream comes from', whole, 20_000)
    .option('--events <n>', 'upstream events of the throughput run (b)', whole, 60_000)
    .option(
      '--segments <n>',
      'segments K of the main run, of mixed rule kinds (at least 11)',
      whole,
      24,
    )
    .option('--partitions <n>', 'partitions of every topic', whole, 6)
    .option('--zipf <s>', 'Zipf exponent of the profiles events come from', positive, 1)
    .option(
      '--every-profile',
      'the first --profiles events of (b) come from each profile once in turn, the rest by Zipf',
      false,
    )
    .option('--seed <n>', 'seed of the stream', whole, 20_261_130)
    .addOption(
      new Option('--stages <list>', `comma-separated, of: ${STAGES.join(', ')}`)
        .default([...STAGES], STAGES.join(','))
        .argParser((value: string) => {
          const stages = value.split(',').map((s) => s.trim());
          const unknown = stages.filter((s) => !(STAGES as readonly string[]).includes(s));
          if (unknown.length > 0) throw new InvalidArgumentError(`Unknown: ${unknown.join(', ')}.`);
          return stages;
        }),
    )
    .option('--latency-seconds <n>', 'duration of the latency run (c, d)', whole, 40)
    .option(
      '--latency-warmup <n>',
      "seconds the latency run's stream flows at its rate before probes count (the JVMs' JIT compilers settle)",
      wholeOrZero,
      60,
    )
    .option('--latency-rate <n>', 'events/s of the latency run; default half of (b)', whole)
    .option('--probe-every <n>', 'one event in n of the latency run is a probe', whole, 4)
    .option('--timers <n>', 'profiles whose time-driven exit is timed (d)', whole, 300)
    .option('--query-seconds <n>', 'duration of each query load (e)', whole, 10)
    .option('--concurrency <n>', 'concurrent callers of the query loads', whole, 32)
    .option(
      '--query-threads <n>',
      'worker threads the query loads are spread over, two channels each',
      whole,
      2,
    )
    .option('--qps <n>', 'the fixed offered rate of IsMember (e)', whole, 5_000)
    .option('--wide-segments <n>', 'segments defined in the wide run (h)', whole, 10_000)
    .option('--wide-dependent <n>', 'of which depend on the stream’s events', whole, 100)
    .option('--wide-events <n>', 'profile changes of each wide run', whole, 10_000)
    .option(
      '--wide-timeout <seconds>',
      'longest time of each wide run; one that runs out reports what it committed',
      whole,
      150,
    )
    .option('--list-members <n>', 'profiles on the static list', whole, 1_000)
    .option('--kafka <host:port>', 'use a running broker (with --mongo) instead of starting one')
    .option('--mongo <url>', 'use a running store (with --kafka)')
    .option(
      '--home <dir>',
      'SHOAL_HOME of the own infrastructure',
      process.env.SHOAL_HOME ?? '.shoal/bench',
    )
    .option(
      '--kafka-port <n>',
      'port of the own Kafka',
      whole,
      Number(process.env.SHOAL_KAFKA_PORT ?? 59_092),
    )
    .option(
      '--controller-port <n>',
      'controller port of the own Kafka',
      whole,
      Number(process.env.SHOAL_KAFKA_CONTROLLER_PORT ?? 59_093),
    )
    .option(
      '--mongo-port <n>',
      'port of the own store',
      whole,
      Number(process.env.SHOAL_MONGO_PORT ?? 57_017),
    )
    .option('--keep-infra', 'leave the own Kafka and store running afterwards', false)
    .option(
      '--keep-logs <dir>',
      'copy the services’ logs (and --cpu-prof’s profiles) into dir at the end (SHOAL_BENCH_SERVICE_LOG_LEVEL sets their level)',
    )
    .option(
      '--cpu-prof',
      'sample the CPU of ingestion and membership (as node --cpu-prof); summarise their hot paths',
      false,
    )
    .option('--timeout <seconds>', 'longest wait of any one step', whole, 900)
    .option(
      '--out <file>',
      'the report (the part between its bench markers is replaced)',
      'docs/benchmarks.md',
    )
    .option('--json <file>', 'the raw figures', 'docs/benchmarks.json');
  const options = program.parse(argv).opts<BenchOptions>();
  if ((options.kafka === undefined) !== (options.mongo === undefined)) {
    program.error('--kafka and --mongo go together');
  }
  if (options.segments < 11) program.error('--segments must be at least 11');
  if (options.wideDependent > options.wideSegments) {
    program.error('--wide-dependent must not exceed --wide-segments');
  }
  return options;
}
