import {
  type InfraEndpoints,
  type InfraPorts,
  LOOPBACK,
  endpointsFor,
  resolvePorts,
} from './config';
import { LocalInfraError, LocalInfraErrorCode, errorMessage } from './errors';
import { KAFKA_READY_TIMEOUT_MS, kafkaProcessMarkers, launchKafka } from './kafka';
import { checkPortsFree, untilReady } from './launch';
import {
  INFRA_COMPONENTS,
  type InfraComponent,
  type InfraLayout,
  infraLayout,
  resolveHome,
} from './layout';
import { withLock } from './lock';
import { MONGO_READY_TIMEOUT_MS, launchMongo, mongoProcessMarkers } from './mongo';
import { isPortFree } from './ports';
import {
  type LaunchedProcess,
  findOurProcess,
  isOurProcess,
  readPidFile,
  removeFile,
  terminate,
  writePidFile,
} from './processes';
import { type ProgressOptions, provisionJars } from './provision';
import { probeKafka, probeMongo, waitForKafka, waitForMongo } from './readiness';

export interface LocalInfraOptions {
  /** Shoal home folder; default `SHOAL_HOME`, else `<repo>/.shoal`. */
  home?: string;
  kafkaPort?: number;
  kafkaControllerPort?: number;
  mongoPort?: number;
  /** Progress lines (provisioning, starting, ready); silent by default. */
  log?: (line: string) => void;
}

export interface ComponentStatus {
  component: InfraComponent;
  running: boolean;
  ready: boolean;
  pid?: number;
  endpoint: string;
  detail?: string;
}

export interface InterruptibleOptions {
  signal?: AbortSignal;
}

/** Kafka shuts down in ~2 s, the store compacts its file on the way out. */
const STOP_TIMEOUT_MS = 30_000;
const STATUS_PROBE_MS = 2_000;

interface Component {
  name: string;
  endpoint: string;
  ports: number[];
  /** How to move it when its port is taken. */
  portHint: string;
  markers: string[];
  launch(progress: ProgressOptions): Promise<LaunchedProcess>;
  waitReady(signal?: AbortSignal): Promise<void>;
  probe(): Promise<void>;
}

/** The shared local Kafka broker and store of this checkout, run as background processes. */
export class LocalInfra {
  readonly endpoints: InfraEndpoints;
  private readonly layout: InfraLayout;
  private readonly ports: InfraPorts;
  private readonly log: (line: string) => void;

  constructor(options: LocalInfraOptions = {}) {
    this.layout = infraLayout(resolveHome(options.home));
    this.ports = resolvePorts({
      kafka: options.kafkaPort,
      kafkaController: options.kafkaControllerPort,
      mongo: options.mongoPort,
    });
    this.endpoints = endpointsFor(this.ports);
    this.log = options.log ?? (() => undefined);
  }

  logFile(component: InfraComponent): string {
    return this.layout.logFile(component);
  }

  /** The folder holding caches, data, pid files and logs (default `<repo>/.shoal`). */
  get home(): string {
    return this.layout.home;
  }

  /** Copies the jars into the cache; a no-op once done. */
  async provision({ signal }: InterruptibleOptions = {}): Promise<void> {
    // one after the other: two Maven runs filling ~/.m2 at once may corrupt it
    for (const component of INFRA_COMPONENTS) {
      await provisionJars(this.layout.home, component, { log: this.log, signal });
    }
  }

  /**
   * Starts what is not running and waits until everything is ready. Reuses running instances.
   * On failure or abort, stops what this call started.
   */
  up({ signal }: InterruptibleOptions = {}): Promise<{
    endpoints: InfraEndpoints;
    started: InfraComponent[];
  }> {
    return this.exclusively(signal, async (signal) => {
      const toStart = INFRA_COMPONENTS.filter((name) => this.runningPid(name) === undefined);
      // before provisioning, which may take a minute: a foreign process on our port fails at once
      for (const name of toStart) {
        const { ports, portHint } = this.component(name);
        await checkPortsFree(ports, name, portHint);
      }
      await this.provision({ signal });
      const results = await Promise.allSettled(
        INFRA_COMPONENTS.map((name) =>
          toStart.includes(name) ? this.start(name, signal) : this.awaitRunning(name, signal),
        ),
      );
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) {
        await Promise.all(toStart.map((name) => this.stop(name)));
        throw failure.reason;
      }
      return { endpoints: this.endpoints, started: toStart };
    });
  }

  /**
   * SIGTERM, wait, SIGKILL after a timeout; removes the pid files. Stops both unless told which,
   * e.g. only what an earlier `up` reported as `started`.
   */
  async down(components: readonly InfraComponent[] = INFRA_COMPONENTS): Promise<void> {
    await this.exclusively(undefined, async () => {
      await Promise.all(components.map((name) => this.stop(name)));
    });
  }

  /**
   * Which components have a process of ours running, from the pid files and the process table
   * only: no probe, so it can be asked every second (status() connects to both).
   */
  processes(): { component: InfraComponent; running: boolean }[] {
    return INFRA_COMPONENTS.map((component) => ({
      component,
      running: this.runningPid(component) !== undefined,
    }));
  }

  async status(): Promise<ComponentStatus[]> {
    return Promise.all(
      INFRA_COMPONENTS.map(async (name): Promise<ComponentStatus> => {
        const component = this.component(name);
        const base = { component: name, endpoint: component.endpoint };
        const pid = this.runningPid(name);
        if (pid === undefined) {
          const taken = (await this.portsTakenBy(component)).map((port) => `${LOOPBACK}:${port}`);
          const detail =
            taken.length > 0
              ? `${taken.join(', ')} in use by a process not started by shoal`
              : undefined;
          return { ...base, running: false, ready: false, detail };
        }
        const ready = await component.probe().then(
          () => true,
          () => false,
        );
        const detail = ready ? undefined : `not answering yet, see ${this.logFile(name)}`;
        return { ...base, running: true, ready, pid, detail };
      }),
    );
  }

  private exclusively<T>(
    signal: AbortSignal | undefined,
    action: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return withLock(
      this.layout.lockDir,
      {
        ...(signal ? { signal } : {}),
        onWait: () => this.log(`waiting for another shoal up/down (${this.layout.lockDir})`),
      },
      action,
    );
  }

  private component(name: InfraComponent): Component {
    const { layout, ports, endpoints } = this;
    const logFile = layout.logFile(name);
    const home = layout.home;
    if (name === 'kafka') {
      return {
        name: 'Kafka',
        endpoint: endpoints.kafkaBrokers[0],
        ports: [ports.kafka, ports.kafkaController],
        portHint:
          '; stop it, or choose other ports with SHOAL_KAFKA_PORT and SHOAL_KAFKA_CONTROLLER_PORT',
        markers: kafkaProcessMarkers(layout.kafkaDataDir),
        launch: (progress) =>
          launchKafka(
            {
              home,
              port: ports.kafka,
              controllerPort: ports.kafkaController,
              dataDir: layout.kafkaDataDir,
              logFile,
            },
            progress,
          ),
        waitReady: (signal) =>
          waitForKafka(endpoints.kafkaBrokers, KAFKA_READY_TIMEOUT_MS, { signal }),
        probe: () => probeKafka(endpoints.kafkaBrokers, STATUS_PROBE_MS),
      };
    }
    return {
      name: 'the store',
      endpoint: endpoints.mongoUrl,
      ports: [ports.mongo],
      portHint: '; stop it, or choose another port with SHOAL_MONGO_PORT',
      markers: mongoProcessMarkers(layout.mongoDataFile),
      launch: (progress) =>
        launchMongo({ home, port: ports.mongo, dataFile: layout.mongoDataFile, logFile }, progress),
      waitReady: (signal) => waitForMongo(endpoints.mongoUrl, MONGO_READY_TIMEOUT_MS, { signal }),
      probe: () => probeMongo(endpoints.mongoUrl, STATUS_PROBE_MS),
    };
  }

  /**
   * The pid of our running instance. The pid file is the quick way; when it is stale or missing,
   * the process table is searched, so an instance never ends up unmanaged.
   */
  private runningPid(name: InfraComponent): number | undefined {
    const pidFile = this.layout.pidFile(name);
    const { markers } = this.component(name);
    const recorded = readPidFile(pidFile);
    if (recorded !== undefined && isOurProcess(recorded, markers)) return recorded;
    const found = findOurProcess(markers);
    if (found !== undefined) {
      writePidFile(pidFile, found);
    } else if (recorded !== undefined) {
      this.log(`removed stale pid file ${pidFile} (process ${recorded} is gone)`);
      removeFile(pidFile);
    }
    return found;
  }

  private async portsTakenBy(component: Component): Promise<number[]> {
    const taken: number[] = [];
    for (const port of component.ports) {
      if (!(await isPortFree(port))) taken.push(port);
    }
    return taken;
  }

  private async start(name: InfraComponent, signal: AbortSignal | undefined): Promise<void> {
    const component = this.component(name);
    const began = Date.now();
    this.log(`starting ${name} on ${component.endpoint}`);
    const started = await component.launch({ log: this.log, signal });
    const pidFile = this.layout.pidFile(name);
    writePidFile(pidFile, started.pid);
    try {
      await untilReady(started, component.name, this.logFile(name), component.waitReady, signal);
    } catch (error) {
      removeFile(pidFile);
      throw error;
    }
    this.log(`${name} ready in ${seconds(Date.now() - began)} (pid ${started.pid})`);
  }

  private async awaitRunning(name: InfraComponent, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.component(name).waitReady(signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new LocalInfraError(
        LocalInfraErrorCode.NotReady,
        `${name} is running (pid ${this.runningPid(name)}) but not ready: ${errorMessage(error)}; ` +
          `see ${this.logFile(name)}, or restart it with down and up`,
      );
    }
    this.log(`${name} already running on ${this.component(name).endpoint}`);
  }

  private async stop(name: InfraComponent): Promise<void> {
    const pid = this.runningPid(name);
    if (pid !== undefined) {
      const began = Date.now();
      const outcome = await terminate(pid, this.component(name).markers, STOP_TIMEOUT_MS);
      this.log(`${name} ${outcome} (pid ${pid}) in ${seconds(Date.now() - began)}`);
    }
    removeFile(this.layout.pidFile(name));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
