import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DescMethod, create, fromBinary, fromJson, toBinary } from '@bufbuild/protobuf';
import { ValueSchema, timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import {
  ContentTypes,
  EventKind,
  GetProfileSegmentsRequestSchema,
  IsMemberRequestSchema,
  IsMemberResponseSchema,
  JobStatus,
  KafkaHeaders,
  MembershipService,
  MembershipTransitionSchema,
  ProfileChangeSchema,
  RefreshMode,
  RuleSchema,
  SchedulerService,
  SegmentKind,
  SegmentSchema,
  SegmentService,
  SegmentStatus,
  type TopicSpec,
  TransitionKind,
  Visibility,
  profileChangesTopic,
  topicCatalogue,
  upstreamEventsDeadLetterTopic,
  upstreamEventsTopic,
  membershipChangesTopic,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import type { ShoalServiceName } from '@shoal/local-infra';
import {
  type GrpcClient,
  TopicNames,
  createGrpcClient,
  devKeyEnv,
  ensureDevKeys,
  ensureTopics,
  loadSigningKey,
  signToken,
} from '@shoal/platform';
import { type Consumer, type EachBatchPayload, Kafka, type Message, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { type HotPath, profilesIn, summariseProfile } from './cpu-profile';
import {
  type HopBreakdown,
  type ProbeTrip,
  type QueryLoad,
  committed,
  hopBreakdown,
  load,
  passThrough,
  percentiles,
  produceAll,
  round,
  seconds,
  until,
  written,
} from './measures';
import { startFloorServer } from './floor-server';
import { type BenchOptions, type Stage, parseOptions } from './options';
import { type QueryLoadSpec, closedQueryLoad, openQueryLoad } from './query-load';
import { type Machine, machine, writeReport } from './report';
import {
  type Infrastructure,
  ProcessSampler,
  REPO_ROOT,
  type ServiceHandle,
  cpuBetween,
  infraPid,
  logTail,
  startOwnInfrastructure,
  startService,
  stopOwnInfrastructure,
  storeFileBytes,
  usageOf,
} from './stack';
import {
  BEAT_EVENT,
  EventStream,
  PROBE_EVENT,
  profileIdOf,
  resolveReferences,
  seeded,
  segmentPlans,
  userIdOf,
  wideRule,
  zipf,
} from './workload';

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const protobuf = { [KafkaHeaders.contentType]: ContentTypes.protobuf };
const PASS_THROUGH = 'bench.pass-through';
/** Requests encoded for each query load, drawn like the stream's profiles and used in turn. */
const QUERY_REQUESTS = 8_192;
/** Each query load calls this long before its counted window (new connections, cold JIT). */
const QUERY_WARMUP_MS = 2_000;

/** Everything a run measured: written to the JSON file as it is, and to the report. */
export interface Results {
  machine: Machine;
  options: BenchOptions;
  startedAt: string;
  finishedAt?: string;
  loadBefore: number[];
  loadAfter?: number[];
  sizes: Record<string, number>;
  passThrough?: { recordsPerSecond: number[]; mean: number; load: number[] };
  endToEnd?: {
    events: number;
    seconds: number;
    eventsPerSecond: number;
    ratio: number;
    transitions: number;
    profileChanges: number;
    deadLetters: number;
    load: number[];
    cpuSeconds: Record<string, number>;
  };
  latency?: {
    offeredRate: number;
    /** Seconds the stream flowed at the rate before probes counted (absent in older results). */
    warmupSeconds?: number;
    achievedRate: number;
    seconds: number;
    probes: number;
    entered: number;
    latencyMs: Record<string, number>;
    hops?: HopBreakdown;
    load: number[];
    cpuSeconds: Record<string, number>;
  };
  timers?: {
    profiles: number;
    exited: number;
    latenessMs: Record<string, number>;
    stampedVsDueMs: Record<string, number>;
    load: number;
  };
  queries?: {
    isMember: QueryLoad & CallCost;
    getProfileSegments: QueryLoad & CallCost;
    isMemberAtRate?: QueryLoad & CallCost & { offered: number };
    segmentsPerIsMember: number;
    /** The same IsMember loads against a gRPC server that only answers (floor-server.ts). */
    floor?: {
      isMember: QueryLoad & CallCost;
      isMemberAtRate: QueryLoad & CallCost & { offered: number };
    };
  };
  refresh?: {
    profiles: number;
    seconds: number;
    jobSeconds: number;
    profilesPerSecond: number;
    secondsPer100k: number;
    entered: number;
    exited: number;
    status: string;
    load: number;
  };
  footprint?: {
    rssPeakMiB: Record<string, number>;
    rssEndMiB: Record<string, number>;
    profiles: number;
    databases: Record<string, { dataSize: number; storageSize: number; objects: number }>;
    dataBytesPerProfile: number;
    storeFileBytes?: { before: number; after: number; perProfile: number };
  };
  wide?: {
    runs: {
      segments: number;
      dependent: number;
      changes: number;
      /** Changes committed when the run ended; all of them unless it ran out of time. */
      committed: number;
      finished: boolean;
      startSeconds: number;
      /** CPU-seconds membership used to become ready (definitions read and compiled). */
      startCpuSeconds: number;
      /** From ready to the first committed change. */
      firstCommitSeconds?: number;
      seconds: number;
      eventsPerSecond: number;
      transitions: number;
      /** CPU-seconds from ready to the end, the same window as `seconds`. */
      cpuSeconds: number;
      rssPeakMiB: number;
      load: number[];
    }[];
    ratio: number;
  };
  hotPaths?: Record<string, HotPath>;
  errors: string[];
}

/** CPU per call: the membership service's (from /proc) and the bench's own, in ms. */
interface CallCost {
  serviceCpuMsPerCall: number;
  benchCpuMsPerCall: number;
}

const MiB = (bytes: number) => Math.round(bytes / 2 ** 20);

class Run {
  readonly id = randomBytes(4).toString('hex');
  readonly prefix = `bench${this.id}.`;
  readonly names = new TopicNames(this.prefix);
  readonly work = mkdtempSync(join(tmpdir(), 'shoal-bench-'));
  readonly logs = join(this.work, 'logs');
  readonly profileDir = join(this.work, 'cpu-profiles');
  readonly sampler = new ProcessSampler();
  readonly services = new Map<string, ServiceHandle>();
  /** What each service process was started as, by pid. */
  readonly labels = new Map<number, string>();
  readonly prefixes = new Set<string>([this.prefix]);
  readonly databases = new Set<string>();
  readonly closers: (() => void)[] = [];
  readonly abort = new AbortController();
  infra!: Infrastructure;
  kafka!: Kafka;
  keys!: Awaited<ReturnType<typeof ensureDevKeys>>;
  token = '';
  private cleaned?: Promise<void>;

  constructor(readonly options: BenchOptions) {
    mkdirSync(this.logs, { recursive: true });
  }

  database(service: string, prefix = this.prefix): string {
    const name = `${prefix.replace(/\W/g, '')}_${service}`;
    this.databases.add(name);
    return name;
  }

  serviceEnv(name: ShoalServiceName, prefix = this.prefix): Record<string, string> {
    const profiled = this.options.cpuProf && (name === 'ingestion' || name === 'membership');
    return {
      SHOAL_ENV: 'development',
      LOG_LEVEL: process.env.SHOAL_BENCH_SERVICE_LOG_LEVEL ?? 'warn',
      KAFKA_BROKERS: this.infra.kafka,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS: String(this.options.partitions),
      MONGO_URL: this.infra.mongo,
      MONGO_DATABASE: this.database(name, prefix),
      ...devKeyEnv(this.keys),
      ...(profiled
        ? {
            NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profiler-preload.js')}`,
            SHOAL_BENCH_CPU_PROFILE_DIR: join(this.profileDir, name),
          }
        : {}),
    };
  }

  async start(
    name: ShoalServiceName,
    label: string = name,
    prefix = this.prefix,
  ): Promise<ServiceHandle> {
    const began = Date.now();
    const handle = await startService(name, this.serviceEnv(name, prefix), this.logs, label);
    this.services.set(label, handle);
    this.sampler.watch(label, handle.process.pid);
    this.labels.set(handle.process.pid, label);
    log(`${label} ready in ${seconds(began).toFixed(1)} s (pid ${handle.process.pid})`);
    return handle;
  }

  async stop(label: string): Promise<void> {
    const handle = this.services.get(label);
    if (handle === undefined) return;
    this.sampler.sample();
    this.sampler.forget(label);
    this.services.delete(label);
    // SIGTERM lets a profiled service write its CPU profile; a stuck one is killed
    const stopped = handle.process.kill('SIGTERM');
    const timedOut = sleep(30_000).then(() => 'timeout');
    if ((await Promise.race([stopped.then(() => 'stopped'), timedOut])) === 'timeout') {
      await handle.process.kill('SIGKILL');
    }
  }

  client<S extends Parameters<typeof createGrpcClient>[0]>(
    service: S,
    label: string,
  ): GrpcClient<S> {
    const handle = this.services.get(label);
    if (handle === undefined) throw new Error(`${label} is not running`);
    const made = createGrpcClient(service, {
      address: handle.grpc,
      token: () => this.token,
      deadlineMs: 30_000,
    });
    this.closers.push(() => made.close());
    return made;
  }

  async ensureTopics(prefix: string): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const layout = {
        partitions: this.options.partitions,
        replicationFactor: 1,
        maxMessageBytes: 1024 * 1024,
      };
      for (let attempt = 0; ; attempt++) {
        try {
          await ensureTopics(
            admin,
            [...topicCatalogue, { ...upstreamEventsTopic, name: PASS_THROUGH }],
            new TopicNames(prefix),
            layout,
          );
          return;
        } catch (error) {
          if (attempt >= 10) throw error;
          await sleep(1_000);
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** Stops every process, removes topics and databases, stops own infrastructure; once. */
  cleanup(): Promise<void> {
    this.cleaned ??= (async () => {
      for (const close of this.closers) close();
      for (const label of [...this.services.keys()].reverse()) {
        await this.stop(label).catch((e: unknown) => log(`stopping ${label}: ${String(e)}`));
      }
      this.sampler.stop();
      if (this.infra !== undefined) {
        try {
          const admin = this.kafka.admin();
          await admin.connect();
          const topics = (await admin.listTopics()).filter((t) =>
            [...this.prefixes].some((p) => t.startsWith(p)),
          );
          if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
          await admin.disconnect();
          const mongo = await MongoClient.connect(this.infra.mongo);
          for (const db of this.databases) await mongo.db(db).dropDatabase();
          await mongo.close();
        } catch (error) {
          log(`cleaning up topics and databases: ${String(error)}`);
        }
        if (!this.options.keepInfra) {
          try {
            stopOwnInfrastructure(this.infra);
          } catch (error) {
            log(String(error));
          }
        }
      }
      if (this.options.keepLogs !== undefined) {
        try {
          cpSync(this.logs, this.options.keepLogs, { recursive: true });
          if (existsSync(this.profileDir))
            cpSync(this.profileDir, join(this.options.keepLogs, 'cpu-profiles'), {
              recursive: true,
            });
          log(`the services' logs (and CPU profiles) are in ${this.options.keepLogs}`);
        } catch (error) {
          log(`keeping the logs: ${String(error)}`);
        }
      }
      rmSync(this.work, { recursive: true, force: true });
    })();
    return this.cleaned;
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const run = new Run(options);
  const stages = new Set<Stage>(options.stages);
  const results: Results = {
    machine: machine(),
    options,
    startedAt: new Date().toISOString(),
    loadBefore: [],
    sizes: {},
    errors: [],
  };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    run.abort.abort();
    void run.cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    results.loadBefore = [...machineLoad()];
    if (options.kafka !== undefined && options.mongo !== undefined) {
      run.infra = { kafka: options.kafka, mongo: options.mongo, env: {} };
      log(`using running infrastructure: ${options.kafka}, ${options.mongo}`);
    } else {
      const home = isAbsolute(options.home) ? options.home : resolve(REPO_ROOT, options.home);
      log(`./shoal infra up with SHOAL_HOME=${home}`);
      run.infra = startOwnInfrastructure({
        home,
        kafkaPort: options.kafkaPort,
        controllerPort: options.controllerPort,
        mongoPort: options.mongoPort,
      });
    }
    run.sampler.watch('kafka (JVM)', infraPid(run.infra, 'kafka'));
    run.sampler.watch('store (JVM)', infraPid(run.infra, 'mongo'));
    await describeVersions(run, results);
    run.kafka = new Kafka({
      clientId: `bench-${run.id}`,
      brokers: run.infra.kafka.split(','),
      logLevel: logLevel.NOTHING,
    });
    run.keys = await ensureDevKeys(join(run.work, 'keys'));
    const signing = await loadSigningKey(run.keys.userSigningKeyFile);
    run.token = await signToken(signing, {
      subject: 'bench',
      issuer: 'shoal',
      audience: 'shoal',
      groups: ['marketing'],
      ttlSeconds: 6 * 3_600,
      now: new Date(),
    });
    await run.ensureTopics(run.prefix);
    const storeBefore = storeFileBytes(run.infra);

    const mainStages = [
      'passthrough',
      'e2e',
      'latency',
      'queries',
      'refresh',
      'footprint',
    ] as const;
    if (mainStages.some((s) => stages.has(s))) {
      await mainRun(run, results, stages, storeBefore);
    }
    if (stages.has('wide')) await wideRuns(run, results);
  } catch (error) {
    const message = (error as Error).stack ?? String(error);
    results.errors.push(message.split('\n')[0] ?? message);
    log(`failed: ${message}`);
    for (const handle of run.services.values()) {
      log(`${handle.name} log (end):\n${logTail(handle, 15).join('\n')}`);
    }
    process.exitCode = 1;
  } finally {
    for (const label of [...run.services.keys()]) await run.stop(label);
    if (options.cpuProf) results.hotPaths = hotPaths(run);
    results.loadAfter = [...machineLoad()];
    results.finishedAt = new Date().toISOString();
    if (!interrupted) {
      try {
        await writeReport(
          results,
          resolve(REPO_ROOT, options.out),
          resolve(REPO_ROOT, options.json),
        );
        log(`wrote ${options.out} and ${options.json}`);
      } catch (error) {
        log(`writing the report: ${(error as Error).stack ?? String(error)}`);
        process.exitCode = 1;
      } finally {
        await run.cleanup();
      }
    }
  }
}

function machineLoad(): number[] {
  return loadavg().map((l) => round(l, 2));
}

async function describeVersions(run: Run, results: Results): Promise<void> {
  try {
    const mongo = await MongoClient.connect(run.infra.mongo);
    const info = await mongo.db('admin').command({ buildInfo: 1 });
    results.machine.store = `MongoDB wire-compatible, reports version ${String(info.version)}${run.infra.home ? ' (mongo-java-server 1.47.0, H2 backend, the commit-per-write launcher of deploy/local)' : ''}`;
    await mongo.close();
  } catch (error) {
    results.machine.store = `unknown (${String(error)})`;
  }
  results.machine.kafka = run.infra.home
    ? 'Apache Kafka 3.9.1, single-node KRaft (deploy/local)'
    : `running broker at ${run.infra.kafka}`;
}

// ---- the main run: (a) to (g) -------------------------------------------------------------

async function mainRun(
  run: Run,
  results: Results,
  stages: Set<Stage>,
  storeBefore: number | undefined,
): Promise<void> {
  const { options } = run;
  const upstream = run.names.of(upstreamEventsTopic);
  const changes = run.names.of(profileChangesTopic);
  const transitions = run.names.of(membershipChangesTopic);
  const now = Date.now();
  const stream = new EventStream(
    options.profiles,
    options.zipf,
    options.seed,
    () => now,
    options.everyProfile ? options.profiles : 0,
  );
  const records: Message[] = [];
  const mix: Record<string, number> = {};
  for (let i = 0; i < options.events; i++) {
    const event = stream.event();
    mix[event.kind] = (mix[event.kind] ?? 0) + 1;
    records.push({ key: event.key, value: event.value });
  }
  results.sizes = {
    profiles: options.profiles,
    events: options.events,
    partitions: options.partitions,
    ...prefixed('mix ', mix),
  };

  log('starting segments, membership and scheduler');
  await run.start('segments');
  await run.start('membership');
  await run.start('scheduler');
  const segments = run.client(SegmentService, 'segments');
  const membership = run.client(MembershipService, 'membership');

  // the segments, as a marketer creates them
  const ids = new Map<string, string>();
  const { segment: list } = await segments.createSegment({
    kind: SegmentKind.STATIC_LIST,
    segment: { name: 'VIP list', visibility: Visibility.SHARED },
  });
  ids.set('vipList', list?.id ?? '');
  const listRandom = seeded(options.seed + 1);
  const members = new Set<string>();
  while (members.size < Math.min(options.listMembers, options.profiles)) {
    members.add(profileIdOf(Math.floor(listRandom() * options.profiles)));
  }
  await segments.addListMembers({ listId: ids.get('vipList') ?? '', memberIds: [...members] });
  const plans = segmentPlans(options.segments);
  for (const plan of plans) {
    const { segment } = await segments.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: plan.name,
        rule: fromJson(RuleSchema, resolveReferences(plan.rule, ids)),
        visibility: Visibility.SHARED,
        // a schedule that never comes round during the run: only RefreshNow moves it
        refresh: plan.scheduled
          ? { mode: RefreshMode.SCHEDULED, cron: '0 0 1 1 *' }
          : { mode: RefreshMode.REALTIME },
      },
    });
    ids.set(plan.key, segment?.id ?? '');
  }
  results.sizes['segments'] = plans.length;
  results.sizes['static lists'] = 1;
  results.sizes['list members'] = members.size;
  const segmentIds = plans.map((p) => ids.get(p.key) ?? '');
  const known = await until(
    async () => {
      try {
        for (let i = 0; i < segmentIds.length; i += 100) {
          await membership.isMember({
            profileId: profileIdOf(0),
            segmentIds: segmentIds.slice(i, i + 100),
          });
        }
        return true;
      } catch {
        return false;
      }
    },
    options.timeout * 1000,
    500,
    run.abort.signal,
  );
  if (!known) throw new Error('membership did not learn the segments');
  log(`${plans.length} segments and a static list of ${members.size} created`);

  let produceSeconds = 0;
  if (stages.has('passthrough') || stages.has('e2e')) {
    const began = Date.now();
    await produceAll(run.kafka, upstream, records);
    produceSeconds = seconds(began);
    log(`produced ${records.length} upstream events in ${produceSeconds.toFixed(1)} s`);
  }
  const admin = run.kafka.admin();
  await admin.connect();
  run.closers.push(() => void admin.disconnect());

  const passRates: number[] = [];
  const passLoad: number[] = [];
  const passOnce = async (n: number) => {
    passLoad.push(load());
    const rate = await passThrough(
      run.kafka,
      upstream,
      run.names.of({ ...upstreamEventsTopic, name: PASS_THROUGH }),
      records.length,
      run.names.group(`pass-through-${n}`),
    );
    passRates.push(Math.round(rate));
    log(`pass-through ${n}: ${Math.round(rate)} records/s`);
  };
  if (stages.has('passthrough')) await passOnce(1);

  // (b): ingestion reads the stream already on the topic; until membership has committed every
  // change, after publishing their transitions
  if (stages.has('e2e')) {
    const cpuBefore = run.sampler.cpu();
    const loadStart = load();
    await run.start('ingestion');
    const began = Date.now();
    const ingested = await until(
      async () =>
        (await committed(admin, run.names.group('ingestion'), upstream)) >= records.length,
      options.timeout * 1000,
      200,
      run.abort.signal,
    );
    if (!ingested) throw new Error('ingestion did not commit the stream in time');
    const produced = await written(admin, changes);
    const evaluated = await until(
      async () => (await committed(admin, run.names.group('membership'), changes)) >= produced,
      options.timeout * 1000,
      200,
      run.abort.signal,
    );
    if (!evaluated) throw new Error('membership did not commit the profile changes in time');
    const took = seconds(began);
    const rate = records.length / took;
    results.endToEnd = {
      events: records.length,
      seconds: round(took, 2),
      eventsPerSecond: Math.round(rate),
      ratio: 0,
      transitions: await written(admin, transitions),
      profileChanges: produced,
      deadLetters: await written(admin, run.names.of(upstreamEventsDeadLetterTopic)),
      load: [loadStart, load()],
      cpuSeconds: cpuBetween(cpuBefore, run.sampler.cpu()),
    };
    log(`end to end: ${Math.round(rate)} events/s (${took.toFixed(1)} s)`);
  } else if (
    stages.has('latency') ||
    stages.has('queries') ||
    stages.has('refresh') ||
    stages.has('footprint')
  ) {
    await run.start('ingestion');
  }
  if (stages.has('passthrough')) await passOnce(2);
  if (passRates.length > 0) {
    const mean = Math.round(passRates.reduce((a, b) => a + b, 0) / passRates.length);
    results.passThrough = { recordsPerSecond: passRates, mean, load: passLoad };
    if (results.endToEnd)
      results.endToEnd.ratio = round(results.endToEnd.eventsPerSecond / mean, 4);
  }

  if (stages.has('latency')) {
    const rate =
      options.latencyRate ??
      Math.max(10, Math.round((results.endToEnd?.eventsPerSecond ?? 200) / 2));
    await latencyRun(run, results, stream, rate, ids.get('probe') ?? '', ids.get('beat') ?? '');
  }
  if (stages.has('queries')) {
    await queryRun(
      run,
      results,
      [ids.get('loyal'), ids.get('retirement'), ids.get('vips'), ids.get('g0')].filter(
        (x): x is string => !!x,
      ),
    );
  }
  if (stages.has('refresh')) await refreshRun(run, results, ids.get('scheduled') ?? '');
  if (stages.has('footprint')) await footprint(run, results, storeBefore);
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

/**
 * A consumer of `topic` from its end, in a group of its own, resolved once it has joined. It
 * commits nothing: kafkajs' auto-commit would send the broker a commit after every batch, and
 * the broker's work would count against what the bench measures.
 */
async function watch(
  run: Run,
  group: string,
  topic: TopicSpec,
  eachBatch: (payload: EachBatchPayload) => Promise<void>,
): Promise<Consumer> {
  const consumer = run.kafka.consumer({ groupId: run.names.group(group), maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: run.names.of(topic), fromBeginning: false });
  const joined = new Promise<void>((ready) =>
    consumer.on(consumer.events.GROUP_JOIN, () => ready()),
  );
  await consumer.run({ autoCommit: false, eachBatch });
  await joined;
  return consumer;
}

/**
 * Sends records at `rate` a second, a request every 20 ms, while `going(began)` holds;
 * `record(i)` makes the i-th, `beforeEach` runs before each request's turn.
 */
async function streamAt(
  run: Run,
  rate: number,
  going: (began: number) => boolean,
  record: (index: number) => Message,
  send: (messages: Message[]) => Promise<void>,
  beforeEach: () => Promise<void> = async () => undefined,
): Promise<{ sent: number; began: number }> {
  const began = Date.now();
  let sent = 0;
  while (going(began)) {
    run.abort.signal.throwIfAborted();
    await beforeEach();
    const due = Math.floor(((Date.now() - began) / 1000) * rate);
    const batch: Message[] = [];
    for (; sent < due; sent++) batch.push(record(sent));
    if (batch.length > 0) await send(batch);
    await sleep(20);
  }
  return { sent, began };
}

/** (c) and (d): probes at a steady rate amid the stream, and profiles whose one-minute window closes. */
async function latencyRun(
  run: Run,
  results: Results,
  stream: EventStream,
  rate: number,
  probeSegment: string,
  beatSegment: string,
): Promise<void> {
  const { options } = run;
  log(
    `latency at ${rate} events/s for ${options.latencySeconds} s; ${options.timers} time-driven exits`,
  );
  const upstream = run.names.of(upstreamEventsTopic);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  // each probe's way, hop by hop: its profile change's and its transition's create times
  const probeMessage = new Map<string, string>();
  const changedAt = new Map<string, number>();
  const trips: ProbeTrip[] = [];
  const beatDue = new Map<string, number>();
  const lateness: number[] = [];
  const stamped: number[] = [];
  const [watcher, changes] = await Promise.all([
    watch(run, 'bench-watcher', membershipChangesTopic, async ({ batch }) => {
      const arrived = Date.now();
      for (const message of batch.messages) {
        if (message.value === null) continue;
        const t = fromBinary(MembershipTransitionSchema, message.value);
        if (t.segmentId === probeSegment && t.kind === TransitionKind.ENTERED) {
          const at = sentAt.get(t.profileId);
          if (at !== undefined) {
            latencies.push(arrived - at);
            sentAt.delete(t.profileId);
            const changed = changedAt.get(t.profileId);
            if (changed !== undefined) {
              trips.push({ sent: at, changed, decided: Number(message.timestamp), arrived });
            }
            changedAt.delete(t.profileId);
          }
        } else if (t.segmentId === beatSegment && t.kind === TransitionKind.EXITED) {
          const due = beatDue.get(t.profileId);
          if (due !== undefined) {
            lateness.push(arrived - due);
            if (t.occurredAt) stamped.push(timestampMs(t.occurredAt) - due);
            beatDue.delete(t.profileId);
          }
        }
      }
    }),
    watch(run, 'bench-changes-watcher', profileChangesTopic, async ({ batch }) => {
      for (const message of batch.messages) {
        // only a probe's own profile is decoded: the bench must not cost what it measures
        const key = message.key?.toString();
        const expected = key === undefined ? undefined : probeMessage.get(key);
        if (expected === undefined || message.value === null) continue;
        const change = fromBinary(ProfileChangeSchema, message.value);
        if (change.sourceId !== expected) continue;
        changedAt.set(change.profileId, Number(message.timestamp));
        probeMessage.delete(change.profileId);
      }
    }),
  ]);
  await sleep(2_000);
  const producer = run.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const streamEvent = (): Message => {
    const event = stream.event(Date.now());
    return { key: event.key, value: event.value };
  };
  if (options.latencyWarmup > 0) {
    // Kafka's and the store's JVMs start with the run: at this rate their JIT compilers used
    // ~0.35 of a core for the first 40 s and ~0.03 after a minute, which is not steady state
    log(`warming up: ${rate} events/s for ${options.latencyWarmup} s before probes count`);
    await streamAt(
      run,
      rate,
      (began) => Date.now() - began < options.latencyWarmup * 1000,
      streamEvent,
      async (messages) => {
        await producer.send({ topic: upstream, acks: -1, messages });
      },
    );
  }
  const cpuBefore = run.sampler.cpu();
  const loadStart = load();
  // Beats are stamped when sent, at a second of the minute between 5 and 35: a one-minute window
  // holds the current UTC minute (docs/rules.md), so each exit is due at the next minute
  // boundary, 25-55 s later, while the stream still runs.
  let beatDueAt = 0;
  const sendBeats = async () => {
    const at = Math.floor(Date.now() / 1000) * 1000;
    beatDueAt = Math.floor(at / 60_000) * 60_000 + 60_000;
    const beats: Message[] = [];
    for (let i = 0; i < options.timers; i++) {
      const userId = `beat-${run.id}-${i}`;
      beatDue.set(`user:${userId}`, beatDueAt);
      beats.push({
        key: userId,
        value: JSON.stringify({
          type: 'track',
          userId,
          event: BEAT_EVENT,
          messageId: userId,
          timestamp: new Date(at).toISOString(),
        }),
      });
    }
    await producer.send({ topic: upstream, acks: -1, messages: beats });
  };
  let probes = 0;
  let probeIds: string[] = [];
  const send = async (messages: Message[]) => {
    const at = Date.now();
    for (const id of probeIds) sentAt.set(id, at);
    probeIds = [];
    await producer.send({ topic: upstream, acks: -1, messages });
  };
  const probeOrEvent = (index: number): Message => {
    if (index % options.probeEvery !== 0) return streamEvent();
    // the stream's own people, each probed once, so probes cost what the stream's events do
    const userId = probes < options.profiles ? userIdOf(probes) : `probe-${run.id}-${probes}`;
    probes++;
    const messageId = `probe-${run.id}-${probes}`;
    probeIds.push(`user:${userId}`);
    probeMessage.set(`user:${userId}`, messageId);
    return {
      key: userId,
      value: JSON.stringify({
        type: 'track',
        userId,
        event: PROBE_EVENT,
        messageId,
        timestamp: new Date().toISOString(),
      }),
    };
  };
  const { sent, began } = await streamAt(
    run,
    rate,
    (began) =>
      Date.now() - began < options.latencySeconds * 1000 ||
      beatDueAt === 0 ||
      Date.now() < beatDueAt + 5_000,
    probeOrEvent,
    send,
    async () => {
      const second = new Date().getUTCSeconds();
      if (beatDueAt === 0 && second >= 5 && second <= 35) await sendBeats();
    },
  );
  const took = seconds(began);
  await producer.disconnect();
  await until(async () => sentAt.size === 0 && beatDue.size === 0, 90_000, 500, run.abort.signal);
  await Promise.all([watcher.disconnect(), changes.disconnect()]);
  results.latency = {
    offeredRate: rate,
    warmupSeconds: options.latencyWarmup,
    achievedRate: Math.round(sent / took),
    seconds: round(took, 1),
    probes,
    entered: latencies.length,
    latencyMs: percentiles(latencies),
    hops: hopBreakdown(trips),
    load: [loadStart, load()],
    cpuSeconds: cpuBetween(cpuBefore, run.sampler.cpu()),
  };
  results.timers = {
    profiles: options.timers,
    exited: lateness.length,
    latenessMs: percentiles(lateness, [50, 99, 100]),
    stampedVsDueMs: percentiles(stamped, [0, 50, 100]),
    load: load(),
  };
  log(
    `latency p99 ${results.latency.latencyMs['p99']} ms (${latencies.length}/${probes}); exits p99 late ${results.timers.latenessMs['p99']} ms (${lateness.length}/${options.timers})`,
  );
}

/**
 * (e): IsMember and GetProfileSegments, all callers at once, then IsMember at a fixed rate; then
 * the same two IsMember loads against the floor (a gRPC server that only answers). The callers
 * run in worker threads with requests framed beforehand, so the bench spends as little of the
 * shared cores as a client can and the figures are the service's; each load warms up first.
 */
async function queryRun(run: Run, results: Results, segmentIds: string[]): Promise<void> {
  const { options } = run;
  log(
    `queries: ${options.concurrency} concurrent callers in ${options.queryThreads} threads, ${options.querySeconds} s each after ${QUERY_WARMUP_MS / 1000} s of warm-up`,
  );
  const membership = run.services.get('membership');
  if (membership === undefined) throw new Error('membership is not running');
  const pick = zipf(options.profiles, options.zipf, seeded(options.seed + 2));
  const drawn = (encode: (profileId: string) => Uint8Array) =>
    Array.from({ length: QUERY_REQUESTS }, () => encode(profileIdOf(pick())));
  const spec = (method: DescMethod, requests: Uint8Array[]): QueryLoadSpec => ({
    address: membership.grpc,
    path: `/${method.parent.typeName}/${method.name}`,
    token: run.token,
    requests,
    threads: options.queryThreads,
    channels: 2,
    warmupMs: QUERY_WARMUP_MS,
    durationMs: options.querySeconds * 1000,
    deadlineMs: 30_000,
  });
  const isMember = spec(
    MembershipService.method.isMember,
    drawn((profileId) =>
      toBinary(IsMemberRequestSchema, create(IsMemberRequestSchema, { profileId, segmentIds })),
    ),
  );
  const getProfileSegments = spec(
    MembershipService.method.getProfileSegments,
    drawn((profileId) =>
      toBinary(
        GetProfileSegmentsRequestSchema,
        create(GetProfileSegmentsRequestSchema, { profileId }),
      ),
    ),
  );
  // the server's CPU per call (warm-up included: its calls are counted too), and the bench's own
  // (it competes for the same cores)
  const perCall = async (cpuOf: () => number, load: () => Promise<QueryLoad>) => {
    const before = cpuOf();
    const ownBefore = process.cpuUsage();
    const result = await load();
    const used = cpuOf() - before;
    const own = process.cpuUsage(ownBefore);
    const calls = Math.max(1, result.calls + result.warmupCalls + result.errors);
    return {
      ...result,
      serviceCpuMsPerCall: round((used * 1000) / calls, 3),
      benchCpuMsPerCall: round((own.user + own.system) / 1000 / calls, 3),
    };
  };
  const membershipCpu = () => run.sampler.cpu().get('membership') ?? 0;
  const im = await perCall(membershipCpu, () => closedQueryLoad(isMember, options.concurrency));
  log(`IsMember: ${im.qps} QPS, p99 ${im.latencyMs['p99']} ms`);
  const gps = await perCall(membershipCpu, () =>
    closedQueryLoad(getProfileSegments, options.concurrency),
  );
  log(`GetProfileSegments: ${gps.qps} QPS, p99 ${gps.latencyMs['p99']} ms`);
  results.queries = {
    isMember: im,
    getProfileSegments: gps,
    segmentsPerIsMember: segmentIds.length,
  };
  // at the fixed rate if the service reached it; else at half its maximum, so p99 is not queueing
  const offered = im.qps >= options.qps ? options.qps : Math.max(1, Math.round(im.qps / 2));
  const atRate = await perCall(membershipCpu, () => openQueryLoad(isMember, offered));
  results.queries.isMemberAtRate = { ...atRate, offered };
  log(
    `IsMember at ${offered} QPS offered: p99 ${atRate.latencyMs['p99']} ms; ${atRate.serviceCpuMsPerCall} CPU-ms per call in the service`,
  );
  // the floor answers what membership answered for a person in none of the segments
  const floor = await startFloorServer({
    path: isMember.path,
    response: toBinary(
      IsMemberResponseSchema,
      create(IsMemberResponseSchema, {
        memberships: segmentIds.map((segmentId) => ({ segmentId, member: false })),
      }),
    ),
  });
  try {
    const floorCpu = () => usageOf(floor.pid)?.cpuSeconds ?? 0;
    const onFloor = { ...isMember, address: floor.address };
    const closed = await perCall(floorCpu, () => closedQueryLoad(onFloor, options.concurrency));
    const open = await perCall(floorCpu, () => openQueryLoad(onFloor, offered));
    results.queries.floor = { isMember: closed, isMemberAtRate: { ...open, offered } };
    log(
      `the floor: ${closed.qps} QPS; at ${offered} QPS offered p99 ${open.latencyMs['p99']} ms; ${open.serviceCpuMsPerCall} CPU-ms per call`,
    );
  } finally {
    await floor.close();
  }
}

/** (f): RefreshNow of the SCHEDULED segment, timed until its job SUCCEEDED. */
async function refreshRun(run: Run, results: Results, segmentId: string): Promise<void> {
  log('refresh of the SCHEDULED segment');
  const scheduler = run.client(SchedulerService, 'scheduler');
  let jobId = '';
  let began = 0;
  const asked = await until(
    async () => {
      try {
        began = Date.now();
        const { jobs } = await scheduler.refreshNow({ segmentIds: [segmentId] });
        jobId = jobs[0]?.id ?? '';
        return jobId !== '';
      } catch {
        return false;
      }
    },
    120_000,
    500,
    run.abort.signal,
  );
  if (!asked) throw new Error('the scheduler did not take the refresh');
  const terminal = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.SKIPPED];
  let job: Awaited<ReturnType<typeof scheduler.getJob>>['job'];
  await until(
    async () => {
      job = (await scheduler.getJob({ jobId })).job;
      return job !== undefined && terminal.includes(job.status);
    },
    run.options.timeout * 1000,
    100,
    run.abort.signal,
  );
  const took = seconds(began);
  const total = Number(job?.total ?? 0n);
  const jobSeconds =
    job?.startedAt && job.finishedAt
      ? (timestampMs(job.finishedAt) - timestampMs(job.startedAt)) / 1000
      : took;
  results.refresh = {
    profiles: total,
    seconds: round(took, 2),
    jobSeconds: round(jobSeconds, 2),
    profilesPerSecond: Math.round(total / took),
    secondsPer100k: round((took * 100_000) / Math.max(1, total), 2),
    entered: Number(job?.entered ?? 0n),
    exited: Number(job?.exited ?? 0n),
    status: JobStatus[job?.status ?? JobStatus.UNSPECIFIED] ?? 'UNKNOWN',
    load: load(),
  };
  log(`refresh: ${results.refresh.status}, ${total} profiles in ${took.toFixed(2)} s`);
}

/** (g): RSS of each process, bytes in the store per profile. */
async function footprint(
  run: Run,
  results: Results,
  storeBefore: number | undefined,
): Promise<void> {
  run.sampler.sample();
  const mongo = await MongoClient.connect(run.infra.mongo);
  try {
    const databases: Record<string, { dataSize: number; storageSize: number; objects: number }> =
      {};
    for (const name of run.databases) {
      const stats = await mongo.db(name).command({ dbStats: 1 });
      databases[name] = {
        dataSize: Number(stats.dataSize),
        storageSize: Number(stats.storageSize),
        objects: Number(stats.objects),
      };
    }
    const profiles = await mongo
      .db(run.database('ingestion'))
      .collection('profiles')
      .estimatedDocumentCount();
    const dataBytes = Object.values(databases).reduce((sum, d) => sum + d.dataSize, 0);
    const after = storeFileBytes(run.infra);
    results.footprint = {
      rssPeakMiB: Object.fromEntries([...run.sampler.peakRss].map(([k, v]) => [k, MiB(v)])),
      rssEndMiB: Object.fromEntries([...run.sampler.lastRss].map(([k, v]) => [k, MiB(v)])),
      profiles,
      databases,
      dataBytesPerProfile: Math.round(dataBytes / Math.max(1, profiles)),
      ...(storeBefore !== undefined && after !== undefined
        ? {
            storeFileBytes: {
              before: storeBefore,
              after,
              perProfile: Math.round((after - storeBefore) / Math.max(1, profiles)),
            },
          }
        : {}),
    };
  } finally {
    await mongo.close();
  }
}

// ---- (h): 10,000 segments against 100 ------------------------------------------------------

/** The stream as ingestion would have published it: profile changes, for membership alone. */
function profileChanges(options: BenchOptions): Message[] {
  const now = Date.now();
  const stream = new EventStream(options.profiles, options.zipf, options.seed + 3, () => now);
  const out: Message[] = [];
  for (let i = 0; i < options.wideEvents; i++) {
    const event = JSON.parse(stream.event().value) as {
      type: string;
      userId: string;
      event?: string;
      properties?: Record<string, unknown>;
      traits?: Record<string, unknown>;
      timestamp: string;
      messageId: string;
    };
    const profileId = `user:${event.userId}`;
    const change =
      event.type === 'identify'
        ? {
            case: 'traitsChanged' as const,
            value: {
              changes: Object.entries(event.traits ?? {}).map(([key, v]) => ({
                key,
                value: fromJson(ValueSchema, v as never),
              })),
            },
          }
        : {
            case: 'eventRecorded' as const,
            value: {
              name: event.event ?? '',
              properties: event.properties as never,
              kind: EventKind.TRACK,
            },
          };
    const record = create(ProfileChangeSchema, {
      id: `wide-${i}`,
      subjectId: profileId,
      profileId,
      sourceId: event.messageId,
      occurredAt: timestampFromMs(Date.parse(event.timestamp)),
      recordedAt: timestampFromMs(now),
      change,
    });
    out.push({
      key: profileId,
      value: Buffer.from(toBinary(ProfileChangeSchema, record)),
      headers: protobuf,
    });
  }
  return out;
}

function wideDefinitions(total: number, dependent: number): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < total; i++) {
    const rule = wideRule(i, dependent);
    const segment = create(SegmentSchema, {
      id: `seg_w${i}`,
      name: `Wide ${i}`,
      kind: SegmentKind.DYNAMIC,
      status: SegmentStatus.ACTIVE,
      visibility: Visibility.SHARED,
      owner: 'bench',
      version: 1n,
      rule: fromJson(RuleSchema, rule),
    });
    out.push({
      key: segment.id,
      value: Buffer.from(toBinary(SegmentSchema, segment)),
      headers: protobuf,
    });
  }
  return out;
}

async function wideRuns(run: Run, results: Results): Promise<void> {
  const { options } = run;
  const changes = profileChanges(options);
  const runs: NonNullable<Results['wide']>['runs'] = [];
  for (const total of [options.wideDependent, options.wideSegments]) {
    const prefix = `bench${run.id}w${total}.`;
    run.prefixes.add(prefix);
    const names = new TopicNames(prefix);
    await run.ensureTopics(prefix);
    await produceAll(
      run.kafka,
      names.of(segmentDefinitionsTopic),
      wideDefinitions(total, options.wideDependent),
    );
    await produceAll(run.kafka, names.of(profileChangesTopic), changes);
    log(`wide: membership with ${total} segments, ${changes.length} changes`);
    const label = `membership (${total} segments)`;
    const loadStart = load();
    const began = Date.now();
    await run.start('membership', label, prefix);
    const startSeconds = seconds(began);
    // the rate's window and the CPU's are the same: from ready to the last commit (the CPU of
    // becoming ready, which grows with the definitions, is reported apart)
    const cpuReady = run.sampler.cpu();
    const admin = run.kafka.admin();
    await admin.connect();
    try {
      let applied = 0;
      let firstCommitSeconds: number | undefined;
      const done = await until(
        async () => {
          applied = await committed(
            admin,
            names.group('membership'),
            names.of(profileChangesTopic),
          );
          if (applied > 0) firstCommitSeconds ??= seconds(began) - startSeconds;
          return applied >= changes.length;
        },
        options.wideTimeout * 1000,
        200,
        run.abort.signal,
      );
      const took = seconds(began) - startSeconds;
      run.sampler.sample();
      runs.push({
        segments: total,
        dependent: options.wideDependent,
        changes: changes.length,
        committed: applied,
        finished: done,
        startSeconds: round(startSeconds, 1),
        startCpuSeconds: round(cpuReady.get(label) ?? 0, 1),
        ...(firstCommitSeconds === undefined
          ? {}
          : { firstCommitSeconds: round(firstCommitSeconds, 1) }),
        seconds: round(took, 2),
        eventsPerSecond: Math.round(applied / took),
        transitions: await written(admin, names.of(membershipChangesTopic)),
        cpuSeconds: cpuBetween(cpuReady, run.sampler.cpu())[label] ?? 0,
        rssPeakMiB: MiB(run.sampler.peakRss.get(label) ?? 0),
        load: [loadStart, load()],
      });
      log(
        `wide ${total}: ${runs.at(-1)?.eventsPerSecond} events/s (${applied} of ${changes.length} committed)`,
      );
    } finally {
      await admin.disconnect();
      await run.stop(label);
    }
  }
  const [few, many] = runs;
  results.wide = {
    runs,
    ratio: few && many ? round(many.eventsPerSecond / few.eventsPerSecond, 3) : 0,
  };
}

function hotPaths(run: Run): Record<string, HotPath> {
  const out: Record<string, HotPath> = {};
  for (const service of ['ingestion', 'membership']) {
    for (const file of profilesIn(join(run.profileDir, service))) {
      // the preload names each profile after its process: CPU.<time>.<pid>.cpuprofile
      const pid = Number(file.split('.').at(-2));
      out[run.labels.get(pid) ?? `${service} (pid ${pid})`] = summariseProfile(file);
    }
  }
  return out;
}

void main();
