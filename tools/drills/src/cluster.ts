import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type InfraComponent,
  type LaunchedProcess,
  LocalInfra,
  SHOAL_SERVICES,
  type ShoalServiceName,
  freePort,
  startServiceProcess,
} from '@shoal/local-infra';
import { devKeyEnv, ensureDevKeys, loadSigningKey, signToken, waitUntil } from '@shoal/platform';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

export interface ClusterOptions {
  /** SHOAL_HOME of the drills' own broker and store. */
  readonly home: string;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  readonly mongoPort: number;
  /** Names this run's topics (`drill<id>.`) and databases (`drill<id>_<service>`). */
  readonly runId: string;
  readonly partitions: number;
  readonly maxMessageBytes: number;
  /** Where each service's log goes. */
  readonly logDir: string;
  readonly log: (line: string) => void;
}

interface RunningService {
  process: LaunchedProcess;
  grpcPort: number;
  httpPort: number;
  /** A drill or the supervisor is restarting it. */
  restarting: boolean;
  /** Consecutive failed liveness probes. */
  failedProbes: number;
}

/** A restart the supervisor made, as an orchestrator would have. */
export interface SupervisorRestart {
  readonly service: ShoalServiceName;
  readonly at: string;
  readonly reason: string;
}

/** As the Helm chart's liveness probe: every 10 s, restarted after 3 failures in a row. */
const PROBE_INTERVAL_MS = 10_000;
const PROBE_FAILURES = 3;

/**
 * The system under drill: a broker and a store of its own (the deploy/local launcher, under its
 * own home and ports) and the five built services as processes, each restartable on its ports.
 */
export class DrillCluster {
  readonly infra: LocalInfra;
  private readonly services = new Map<ShoalServiceName, RunningService>();
  private keys?: Awaited<ReturnType<typeof ensureDevKeys>>;
  private startedInfra: InfraComponent[] = [];
  private downloadPort = 0;
  private supervisor?: NodeJS.Timeout;
  /** Restarts the supervisor made. */
  readonly supervisorRestarts: SupervisorRestart[] = [];

  constructor(private readonly options: ClusterOptions) {
    this.infra = new LocalInfra({
      home: options.home,
      kafkaPort: options.kafkaPort,
      kafkaControllerPort: options.kafkaControllerPort,
      mongoPort: options.mongoPort,
      log: (line) => options.log(`infra: ${line}`),
    });
  }

  get topicPrefix(): string {
    return `drill${this.options.runId}.`;
  }

  get kafkaBrokers(): string[] {
    return this.infra.endpoints.kafkaBrokers;
  }

  get mongoUrl(): string {
    return this.infra.endpoints.mongoUrl;
  }

  databaseOf(name: ShoalServiceName): string {
    return `drill${this.options.runId}_${name}`;
  }

  /** Starts (or reuses) the broker and the store; the ones started here are stopped by `close`. */
  async startInfrastructure(): Promise<void> {
    const { started } = await this.infra.up();
    this.startedInfra = [...new Set([...this.startedInfra, ...started])];
    this.keys = await ensureDevKeys(join(this.infra.home, 'keys'));
  }

  /** Starts the five services in order, each on ports chosen once and kept across restarts. */
  async startServices(): Promise<void> {
    for (const name of SHOAL_SERVICES) {
      const ports = { grpcPort: await freePort(), httpPort: await freePort() };
      if (name === 'exporter') this.downloadPort = await freePort();
      this.services.set(name, {
        ...ports,
        process: await this.launch(name, ports),
        restarting: false,
        failedProbes: 0,
      });
    }
  }

  /**
   * Does what the deployment's orchestrator does (deploy/helm: a liveness probe on /healthz, a
   * restart policy): restarts a service whose process ended or whose /healthz failed 3 times
   * in a row. A service may declare itself dead on purpose (a Kafka consumer kafkajs gave up
   * on), so without this the drills would measure a system without its supervisor.
   */
  supervise(): void {
    this.supervisor = setInterval(() => void this.probeAll(), PROBE_INTERVAL_MS);
  }

  private async probeAll(): Promise<void> {
    for (const [name, running] of this.services) {
      if (running.restarting) continue;
      const exited = running.process.hasExited();
      const alive =
        !exited &&
        (await fetch(`http://127.0.0.1:${running.httpPort}/healthz`, {
          signal: AbortSignal.timeout(5_000),
        })
          .then((response) => response.status === 200)
          .catch(() => false));
      running.failedProbes = alive ? 0 : running.failedProbes + 1;
      if (!exited && running.failedProbes < PROBE_FAILURES) continue;
      const reason = exited
        ? `exited (${await running.process.exited})`
        : `/healthz failed ${running.failedProbes} times`;
      this.options.log(`supervisor: restarting ${name}: ${reason}`);
      this.supervisorRestarts.push({ service: name, at: new Date().toISOString(), reason });
      running.restarting = true;
      try {
        if (!exited) await running.process.kill('SIGKILL');
        running.process = await this.launch(name, running);
      } catch (error) {
        this.options.log(`supervisor: ${name} did not come back: ${String(error)}`);
      } finally {
        running.failedProbes = 0;
        running.restarting = false;
      }
    }
  }

  grpcAddress(name: ShoalServiceName): string {
    return `127.0.0.1:${this.running(name).grpcPort}`;
  }

  /** Undefined once a service's /readyz answers 200 (waiting up to `timeoutMs`), else why not. */
  async notReadyBecause(name: ShoalServiceName, timeoutMs: number): Promise<string | undefined> {
    let why: string | undefined;
    const ready = await waitUntil(
      async () => {
        why = await fetch(`http://127.0.0.1:${this.running(name).httpPort}/readyz`, {
          signal: AbortSignal.timeout(5_000),
        })
          .then(async (r) => (r.status === 200 ? undefined : `${r.status} ${await r.text()}`))
          .catch((error: unknown) => String(error));
        return why === undefined;
      },
      { timeoutMs, intervalMs: 1_000 },
    );
    return ready ? undefined : why;
  }

  /** Deletes the run's topics and drops its databases. */
  async removeRunData(): Promise<void> {
    const kafka = new Kafka({ brokers: this.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(this.topicPrefix));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    } finally {
      await admin.disconnect();
    }
    const mongo = await new MongoClient(this.mongoUrl).connect();
    try {
      for (const name of SHOAL_SERVICES) await mongo.db(this.databaseOf(name)).dropDatabase();
    } finally {
      await mongo.close();
    }
  }

  /** kill -9, then starts it again on its ports; resolves once its /readyz answers 200. */
  async killAndRestart(name: ShoalServiceName): Promise<void> {
    const running = this.running(name);
    running.restarting = true;
    try {
      await running.process.kill('SIGKILL');
      running.process = await this.launch(name, running);
    } finally {
      running.restarting = false;
    }
  }

  /** Stops one infrastructure component gracefully (SIGTERM), as an operator would. */
  stopComponent(component: InfraComponent): Promise<void> {
    return this.infra.down([component]);
  }

  /** Kills one infrastructure component with SIGKILL: no shutdown, nothing flushed. */
  async killComponent(component: InfraComponent): Promise<void> {
    const pid = Number(
      readFileSync(join(this.infra.home, 'run', `${component}.pid`), 'utf8').trim(),
    );
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isAlive(pid), { timeoutMs: 30_000, intervalMs: 100 });
  }

  /** Starts whatever of the broker and the store is not running, and waits until both answer. */
  async resumeInfrastructure(): Promise<void> {
    await this.infra.up();
  }

  /** A user token of the development identity provider. */
  async token(subject: string, groups: readonly string[]): Promise<string> {
    return signToken(await loadSigningKey(this.devKeys().userSigningKeyFile), {
      subject,
      groups,
      issuer: 'shoal',
      audience: 'shoal',
      ttlSeconds: 6 * 3600,
      now: new Date(),
    });
  }

  /**
   * Stops the services (SIGTERM), removes the run's topics and databases unless told to keep
   * them, and stops the infrastructure this run started unless told to keep it.
   */
  async close({
    keepInfrastructure,
    keepData,
  }: {
    keepInfrastructure: boolean;
    keepData: boolean;
  }): Promise<void> {
    clearInterval(this.supervisor);
    for (const name of [...SHOAL_SERVICES].reverse()) {
      const running = this.services.get(name);
      if (running && !running.process.hasExited()) await running.process.kill('SIGTERM');
    }
    if (!keepData) {
      await this.removeRunData().catch((error: unknown) =>
        this.options.log(`could not remove the run's topics and databases: ${String(error)}`),
      );
    }
    if (!keepInfrastructure && this.startedInfra.length > 0) await this.infra.down();
  }

  private devKeys() {
    if (this.keys === undefined) throw new Error('the infrastructure is not started');
    return this.keys;
  }

  private running(name: ShoalServiceName): RunningService {
    const running = this.services.get(name);
    if (running === undefined) throw new Error(`${name} is not started`);
    return running;
  }

  private launch(
    name: ShoalServiceName,
    ports: { grpcPort: number; httpPort: number },
  ): Promise<LaunchedProcess> {
    return startServiceProcess({
      name,
      env: this.env(name),
      grpcPort: ports.grpcPort,
      httpPort: ports.httpPort,
      logFile: join(this.options.logDir, `${name}.log`),
    });
  }

  private env(name: ShoalServiceName): Record<string, string> {
    const common = {
      SHOAL_ENV: 'development',
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: this.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_PARTITIONS: String(this.options.partitions),
      KAFKA_MAX_MESSAGE_BYTES: String(this.options.maxMessageBytes),
      MONGO_URL: this.mongoUrl,
      MONGO_DATABASE: this.databaseOf(name),
      ...devKeyEnv(this.devKeys()),
    };
    switch (name) {
      case 'ingestion':
      case 'segments':
      case 'scheduler':
        return common;
      case 'membership':
        return { ...common, MEMBERSHIP_STATUS_INTERVAL_MS: '1000' };
      case 'exporter':
        return {
          ...common,
          EXPORTER_MEMBERSHIP_ADDRESS: this.grpcAddress('membership'),
          EXPORTER_INGESTION_ADDRESS: this.grpcAddress('ingestion'),
          EXPORTER_SEGMENTS_ADDRESS: this.grpcAddress('segments'),
          EXPORTER_DOWNLOAD_PORT: String(this.downloadPort),
          // the drills' webhook receiver listens on loopback, which is refused by default
          EXPORTER_WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        };
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
