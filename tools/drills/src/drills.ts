import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fromJson } from '@bufbuild/protobuf';
import {
  ExportService,
  KafkaHeaders,
  MembershipService,
  RefreshMode,
  RuleSchema,
  SegmentKind,
  SegmentService,
  Visibility,
  membershipChangesTopic,
} from '@shoal/contracts';
import { type InfraComponent, SHOAL_SERVICES, type ShoalServiceName } from '@shoal/local-infra';
import { type GrpcClient, createGrpcClient, retry } from '@shoal/platform';
import { DrillCluster, type SupervisorRestart } from './cluster';
import { type TransitionComparison, compareTransitions, transitionsMatch } from './compare';
import { type ExpectedOutcome, expectedOutcome, pairKey } from './expected';
import {
  DrillKafka,
  type ObservedTransition,
  type TransitionFollower,
  WebhookReceiver,
  decodeTransition,
  header,
} from './observer';
import { type PoisonRecord, poisonRecords } from './poison';
import { SteadyProducer } from './producer';
import { DRILL_SEGMENTS, EventStream } from './workload';

/** The faults, in the order they run. */
export const DRILLS = [
  'ingestion',
  'segments',
  'membership',
  'scheduler',
  'exporter',
  'broker-stop',
  'broker-kill',
  'store-stop',
  'store-kill',
] as const;
export type DrillName = (typeof DRILLS)[number];

export interface DrillOptions {
  readonly drills: readonly DrillName[];
  readonly poison: boolean;
  readonly profiles: number;
  readonly ratePerSecond: number;
  readonly seed: number;
  /** Stream time before the first fault, and between a recovery and the next fault. */
  readonly warmupSeconds: number;
  readonly betweenSeconds: number;
  /** How long the broker or the store stays down. */
  readonly outageSeconds: number;
  /** How long the stream may take to catch up once it stops. */
  readonly settleSeconds: number;
  readonly partitions: number;
  readonly maxMessageBytes: number;
  readonly home: string;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  readonly mongoPort: number;
  readonly keepInfrastructure: boolean;
  /** Keep the run's topics and databases for a look afterwards. */
  readonly keepData: boolean;
  readonly logDir: string;
  readonly runId: string;
}

/** One fault and how the system came back from it. */
export interface DrillResult {
  readonly drill: DrillName;
  /** From the fault until the component answered ready again (the outage included). */
  readonly downMs: number;
  /** From the fault until the first transition caused by an event generated after the recovery. */
  readonly streamRecoveredMs?: number;
  /** The longest time from an event to its transition, over events generated from the fault to the next one. */
  readonly maxLatencyMs?: number;
  /** Events queued at the producer when the component came back (an outage holds them). */
  readonly producerBacklog: number;
  readonly loadAverage: number;
}

export interface PoisonResult {
  readonly label: string;
  readonly topic: string;
  /** Per dead-letter topic: the reason header found, or undefined when none arrived. */
  readonly deadLettered: Readonly<Record<string, string | undefined>>;
}

export interface DrillReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly options: Omit<DrillOptions, 'drills'> & { drills: readonly string[] };
  readonly eventsSent: number;
  readonly profiles: number;
  readonly drills: readonly DrillResult[];
  readonly transitions: TransitionComparison;
  readonly catchUpMs: number;
  /** IsMember for every (profile, segment) and CountMembers per segment against the oracle. */
  readonly membership: {
    readonly checked: number;
    readonly wrong: readonly string[];
    readonly counts: Readonly<Record<string, { expected: number; served: number }>>;
  };
  readonly webhook: {
    readonly segment: string;
    readonly expected: number;
    readonly delivered: number;
    readonly redelivered: number;
    readonly missing: number;
  };
  readonly poison: readonly PoisonResult[];
  /** Restarts an orchestrator would have made (a process ended, liveness failed). */
  readonly supervisorRestarts: readonly SupervisorRestart[];
  readonly servicesNotReady: readonly string[];
  readonly loadAverage: { readonly min: number; readonly max: number };
  readonly passed: boolean;
  readonly failures: readonly string[];
}

const WEBHOOK_SEGMENT = 'New gold customers';
const GRPC_DEADLINE_MS = 15_000;

/**
 * Runs the drills: its own broker and store, the five services, a steady stream, each fault in
 * turn while it flows, poison records in every consumed topic; then compares everything consumed
 * with the oracle computed from the input.
 */
export async function runDrills(
  options: DrillOptions,
  log: (line: string) => void,
): Promise<DrillReport> {
  const startedAt = new Date();
  mkdirSync(options.logDir, { recursive: true });
  const cluster = new DrillCluster({ ...options, log });
  const receiver = new WebhookReceiver();
  const closers: (() => Promise<void> | void)[] = [];
  const loads: number[] = [];
  const sampleLoad = () => {
    const [one] = loadavg();
    loads.push(one ?? 0);
    return one ?? 0;
  };
  const loadSampler = setInterval(sampleLoad, 5_000);
  try {
    log(`run ${options.runId}: broker and store under ${options.home}`);
    await cluster.startInfrastructure();
    log('starting the five services');
    await cluster.startServices();
    cluster.supervise();
    const token = await cluster.token('drills', ['marketing']);
    const client = <S extends Parameters<typeof createGrpcClient>[0]>(
      service: S,
      name: ShoalServiceName,
    ): GrpcClient<S> => {
      const made = createGrpcClient(service, {
        address: cluster.grpcAddress(name),
        token: () => token,
        deadlineMs: GRPC_DEADLINE_MS,
      });
      closers.push(() => made.close());
      return made;
    };
    const segments = client(SegmentService, 'segments');
    const membership = client(MembershipService, 'membership');
    const exporter = client(ExportService, 'exporter');

    const ids = new Map<string, string>();
    for (const [name, rule] of Object.entries(DRILL_SEGMENTS)) {
      const { segment } = await segments.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: `${name} (${options.runId})`,
          rule: fromJson(RuleSchema, rule),
          visibility: Visibility.SHARED,
          refresh: { mode: RefreshMode.REALTIME },
        },
      });
      ids.set(name, segment?.id ?? '');
    }
    const names = new Map([...ids].map(([name, id]) => [id, name]));
    const url = await receiver.listen();
    closers.push(() => receiver.close());
    const { destination } = await exporter.createDestination({
      name: `drills ${options.runId}`,
      config: {
        kind: { case: 'webhook', value: { url, signingSecret: `whsec-drills-${options.runId}` } },
      },
    });
    // the exporter knows a segment once its definition has come through the topic
    await retry(
      () =>
        exporter.linkSegment({
          destinationId: destination?.id ?? '',
          segmentId: ids.get(WEBHOOK_SEGMENT) ?? '',
          autoSync: true,
        }),
      { timeoutMs: 120_000, delayMs: 500 },
    );

    const kafka = new DrillKafka(cluster.kafkaBrokers, cluster.topicPrefix);
    const follower = await kafka.followTransitions(names, membershipChangesTopic);
    closers.push(() => follower.stop());
    const stream = new EventStream({
      seed: options.seed,
      profiles: options.profiles,
      runId: options.runId,
    });
    const producer = new SteadyProducer(kafka.kafka, kafka.names, stream, options.ratePerSecond);
    await producer.start();
    log(`streaming ${options.ratePerSecond} events/s over ${options.profiles} profiles`);
    await sleep(options.warmupSeconds * 1000);

    const poison = options.poison ? poisonRecords(options.runId, options.maxMessageBytes) : [];
    const poisoned = await producePoison(kafka, poison);
    if (poison.length > 0) log(`produced ${poison.length} poison records`);

    const faults: Fault[] = [];
    for (const drill of options.drills) {
      const faultAt = Date.now();
      log(`drill ${drill}: fault`);
      await inject(cluster, drill, options.outageSeconds);
      const readyAt = Date.now();
      const producerBacklog = producer.pending;
      log(`drill ${drill}: ready again after ${((readyAt - faultAt) / 1000).toFixed(1)} s`);
      await sleep(options.betweenSeconds * 1000);
      faults.push({
        drill,
        faultAt,
        readyAt,
        until: Date.now(),
        producerBacklog,
        load: sampleLoad(),
      });
    }

    await producer.stop();
    log(`stream stopped after ${producer.sent.length} events; waiting for the pipeline to settle`);
    const expected = expectedOutcome(DRILL_SEGMENTS, producer.sent);
    const stoppedAt = Date.now();
    await waitUntilMatched(follower, expected, options.settleSeconds * 1000);
    const catchUpMs = Date.now() - stoppedAt;
    // the verdict is read afresh from the topic, not from the live follower
    const transitions = compareTransitions(
      expected,
      (await kafka.readToEnd(membershipChangesTopic))
        .map(({ message }) => decodeTransition(message, names))
        .filter((t) => t !== undefined),
    );
    const allTransitions = follower.transitions;
    const results: DrillResult[] = faults.map((f) => ({
      drill: f.drill,
      downMs: f.readyAt - f.faultAt,
      ...streamFigures(allTransitions, expected, f),
      producerBacklog: f.producerBacklog,
      loadAverage: f.load,
    }));

    const checkedMembership = await checkMembership(membership, ids, expected);
    const webhookIds = new Set(
      allTransitions.filter((t) => t.segment === WEBHOOK_SEGMENT).map((t) => t.id),
    );
    await retry(
      () => {
        const delivered = new Set(receiver.eventIds);
        if ([...webhookIds].some((id) => !delivered.has(id))) throw new Error('not yet');
      },
      { timeoutMs: options.settleSeconds * 1000, delayMs: 500 },
    ).catch(() => undefined);
    const deliveredIds = new Set(receiver.eventIds);
    const webhook = {
      segment: WEBHOOK_SEGMENT,
      expected: webhookIds.size,
      delivered: deliveredIds.size,
      redelivered: receiver.eventIds.length - deliveredIds.size,
      missing: [...webhookIds].filter((id) => !deliveredIds.has(id)).length,
    };

    const poisonResults = await checkPoison(kafka, poisoned, options.settleSeconds * 1000);
    const notReady: string[] = [];
    for (const name of SHOAL_SERVICES) {
      const why = await cluster.notReadyBecause(name, 60_000);
      if (why !== undefined) notReady.push(`${name}: ${why}`);
    }

    const failures: string[] = [];
    if (!transitionsMatch(transitions))
      failures.push(
        `transitions: ${transitions.missing.length} missing, ${transitions.unexpected.length} unexpected, ` +
          `${transitions.duplicated.length} duplicated, ${transitions.conflicting.length} conflicting ids`,
      );
    if (checkedMembership.wrong.length > 0)
      failures.push(`membership served wrongly for ${checkedMembership.wrong.length} pairs`);
    for (const [segment, c] of Object.entries(checkedMembership.counts))
      if (c.expected !== c.served)
        failures.push(`CountMembers(${segment}) = ${c.served}, expected ${c.expected}`);
    if (webhook.missing > 0) failures.push(`webhook: ${webhook.missing} transitions not delivered`);
    for (const p of poisonResults)
      for (const [topic, reason] of Object.entries(p.deadLettered))
        if (reason === undefined) failures.push(`poison "${p.label}" did not reach ${topic}`);
    // a failed liveness probe is how a service asks to be restarted; a process ending is not
    for (const r of cluster.supervisorRestarts.filter((r) => r.reason.startsWith('exited')))
      failures.push(`${r.service} ${r.reason} at ${r.at}`);
    for (const why of notReady) failures.push(`not ready at the end: ${why}`);

    return {
      runId: options.runId,
      startedAt: startedAt.toISOString(),
      options: { ...options, drills: [...options.drills] },
      eventsSent: producer.sent.length,
      profiles: expected.profiles.length,
      drills: results,
      transitions,
      catchUpMs,
      membership: checkedMembership,
      webhook,
      poison: poisonResults,
      supervisorRestarts: cluster.supervisorRestarts,
      servicesNotReady: notReady,
      loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
      passed: failures.length === 0,
      failures,
    };
  } finally {
    clearInterval(loadSampler);
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    await cluster.close({
      keepInfrastructure: options.keepInfrastructure,
      keepData: options.keepData,
    });
  }
}

async function inject(cluster: DrillCluster, drill: DrillName, outageSeconds: number) {
  const component = (name: InfraComponent, how: 'stop' | 'kill') => async () => {
    if (how === 'stop') await cluster.stopComponent(name);
    else await cluster.killComponent(name);
    await sleep(outageSeconds * 1000);
    await cluster.resumeInfrastructure();
  };
  switch (drill) {
    case 'ingestion':
    case 'segments':
    case 'membership':
    case 'scheduler':
    case 'exporter':
      await cluster.killAndRestart(drill);
      return;
    case 'broker-stop':
      return component('kafka', 'stop')();
    case 'broker-kill':
      return component('kafka', 'kill')();
    case 'store-stop':
      return component('mongo', 'stop')();
    case 'store-kill':
      return component('mongo', 'kill')();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Poisoned {
  readonly record: PoisonRecord;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Sends each poison record on its own, to know where it landed. */
async function producePoison(kafka: DrillKafka, records: readonly PoisonRecord[]) {
  const producer = kafka.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const poisoned: Poisoned[] = [];
    for (const record of records) {
      const topic = kafka.names.of(record.topic);
      const [written] = await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: record.key,
            value: record.value,
            ...(record.headers ? { headers: { ...record.headers } } : {}),
          },
        ],
      });
      poisoned.push({
        record,
        topic,
        partition: written?.partition ?? -1,
        offset: written?.baseOffset ?? '-1',
      });
    }
    return poisoned;
  } finally {
    await producer.disconnect();
  }
}

/**
 * Looks for each poison record in each of its dead-letter topics (by the source headers), until
 * all are there or the time is up; a record of a topic without one is reported with no entries.
 */
async function checkPoison(
  kafka: DrillKafka,
  poisoned: readonly Poisoned[],
  timeoutMs: number,
): Promise<PoisonResult[]> {
  const deadLetterTopics = [
    ...new Map(poisoned.flatMap((p) => p.record.deadLetters).map((t) => [t.name, t])).values(),
  ];
  const find = async () => {
    const found = new Map<string, string>();
    for (const topic of deadLetterTopics) {
      for (const { message } of await kafka.readToEnd(topic)) {
        const source = header(message.headers, KafkaHeaders.deadLetterTopic);
        const partition = header(message.headers, KafkaHeaders.deadLetterPartition);
        const offset = header(message.headers, KafkaHeaders.deadLetterOffset);
        const reason = header(message.headers, KafkaHeaders.deadLetterReason) ?? '';
        found.set(`${topic.name} ${source} ${partition} ${offset}`, reason);
      }
    }
    return poisoned.map((p) => ({
      label: p.record.label,
      topic: p.record.topic.name,
      deadLettered: Object.fromEntries(
        p.record.deadLetters.map((t) => [
          t.name,
          found.get(`${t.name} ${p.topic} ${p.partition} ${p.offset}`),
        ]),
      ),
    }));
  };
  const complete = (results: PoisonResult[]) =>
    results.every((r) => Object.values(r.deadLettered).every((reason) => reason !== undefined));
  const deadline = Date.now() + timeoutMs;
  let results = await find();
  while (!complete(results) && Date.now() < deadline) {
    await sleep(2_000);
    results = await find();
  }
  return results;
}

interface Fault {
  readonly drill: DrillName;
  readonly faultAt: number;
  readonly readyAt: number;
  /** When the next fault began (or the stream stopped). */
  readonly until: number;
  readonly producerBacklog: number;
  readonly load: number;
}

/**
 * Recovery and latency figures of one drill. Each transition is traced to the input event that
 * caused it (the oracle knows which), so latency runs from that event's timestamp (when it was
 * generated) to when the transition was first consumed.
 */
function streamFigures(
  transitions: readonly ObservedTransition[],
  expected: ExpectedOutcome,
  { faultAt, readyAt, until }: Fault,
): { streamRecoveredMs?: number; maxLatencyMs?: number } {
  const first = new Map<string, ObservedTransition>();
  for (const t of transitions) if (!first.has(t.id)) first.set(t.id, t);
  const traced = [...first.values()].flatMap((t) => {
    const causedAt = expected.causedAt.get(pairKey(t.profileId, t.segment))?.[t.sequence - 1];
    return causedAt === undefined ? [] : [{ causedAt, consumedAt: t.consumedAtMs }];
  });
  const inWindow = traced.filter((t) => t.causedAt >= faultAt && t.causedAt < until);
  const firstAfterRecovery = Math.min(
    ...inWindow.filter((t) => t.causedAt >= readyAt).map((t) => t.consumedAt),
  );
  const maxLatency = Math.max(...inWindow.map((t) => t.consumedAt - t.causedAt));
  return {
    ...(Number.isFinite(firstAfterRecovery)
      ? { streamRecoveredMs: firstAfterRecovery - faultAt }
      : {}),
    ...(Number.isFinite(maxLatency) ? { maxLatencyMs: maxLatency } : {}),
  };
}

/** Waits until the followed stream holds every expected transition (or the time is up). */
async function waitUntilMatched(
  follower: TransitionFollower,
  expected: ExpectedOutcome,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const comparison = compareTransitions(expected, follower.transitions);
    if (comparison.missing.length === 0) return;
    await sleep(1_000);
  }
}

/** IsMember for every (profile, segment) the stream touched, and CountMembers per segment. */
async function checkMembership(
  membership: GrpcClient<typeof MembershipService>,
  ids: ReadonlyMap<string, string>,
  expected: ExpectedOutcome,
): Promise<DrillReport['membership']> {
  const segmentNames = [...ids.keys()];
  const segmentIds = segmentNames.map((name) => ids.get(name) ?? '');
  const wrong: string[] = [];
  let checked = 0;
  for (const profileId of expected.profiles) {
    const { memberships } = await membership.isMember({ profileId, segmentIds });
    segmentNames.forEach((name, i) => {
      checked += 1;
      const want = expected.members.get(name)?.has(profileId) ?? false;
      if ((memberships[i]?.member ?? false) !== want)
        wrong.push(`${profileId} ${name}: served ${!want}, expected ${want}`);
    });
  }
  const countsNow = async () => {
    const { counts: served } = await membership.countMembers({ segmentIds });
    return Object.fromEntries(
      segmentNames.map((name, i) => [
        name,
        {
          expected: expected.members.get(name)?.size ?? 0,
          served: Number(served[i]?.memberCount ?? -1),
        },
      ]),
    );
  };
  // counts come from the partitions' status reports, published every status interval
  const counts = await retry(
    async () => {
      const result = await countsNow();
      if (Object.values(result).some((c) => c.expected !== c.served)) throw new Error('not yet');
      return result;
    },
    { timeoutMs: 30_000, delayMs: 1_000 },
  ).catch(countsNow);
  return { checked, wrong, counts };
}
