import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOOPBACK } from './config';
import { LocalInfraError, LocalInfraErrorCode } from './errors';
import { checkPortsFree, untilReady } from './launch';
import { REPO_ROOT, resolveHome } from './layout';
import {
  type LaunchedProcess,
  isOurProcess,
  readPidFile,
  removeFile,
  spawnDetached,
  terminate,
  writePidFile,
} from './processes';
import { retryUntilReady } from './readiness';

/** Shoal's services, in the order they start. */
export const SHOAL_SERVICES = [
  'ingestion',
  'segments',
  'membership',
  'scheduler',
  'exporter',
] as const;
export type ShoalServiceName = (typeof SHOAL_SERVICES)[number];
/** The web console, started after the five it forwards to (its own port: CONSOLE_PORT). */
export const CONSOLE_SERVICE = 'console';
export type StartableServiceName = ShoalServiceName | typeof CONSOLE_SERVICE;
/** What `up` starts, in order: the five services, then the console. */
export const LOCAL_SERVICES = [...SHOAL_SERVICES, CONSOLE_SERVICE] as const;
/** The port `up` gives the console's web app (its own default). */
export const CONSOLE_WEB_PORT = 8456;

/** The ports `up` gives each service (the services' own defaults). */
export const SERVICE_PORTS: Readonly<Record<StartableServiceName, { grpc: number; http: number }>> =
  {
    ingestion: { grpc: 50051, http: 9451 },
    segments: { grpc: 50052, http: 9452 },
    membership: { grpc: 50053, http: 9453 },
    scheduler: { grpc: 50054, http: 9454 },
    exporter: { grpc: 50055, http: 9455 },
    console: { grpc: 50056, http: 9456 },
  };

const READY_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 20_000;
/** How long a status probe (/readyz, /healthz) waits for its answer. */
const PROBE_TIMEOUT_MS = 3_000;

/** The built entry point of a service; `npm run build` makes it. */
export function serviceEntry(name: StartableServiceName): string {
  return path.join(REPO_ROOT, 'services', name, 'dist', 'main.js');
}

export interface ServiceProcessOptions {
  readonly name: StartableServiceName;
  /**
   * Configuration (KAFKA_BROKERS, MONGO_URL, AUTH_JWKS_FILE, ...), on top of our environment; an
   * undefined value leaves ours as it is.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly logFile: string;
  readonly signal?: AbortSignal;
}

/**
 * The services that run with a young generation of 64 MiB semi-spaces instead of the default 16
 * (the Dockerfile's CMD says the same): the two stream processors, which make many objects that
 * live for one batch. In the benchmark (100,000 new profiles, 2 million transitions) membership
 * used 17% less CPU and the run went 16% faster (docs/operations.md, "Node's young generation").
 * The others keep Node's default, which keeps their memory smaller (the exporter's streamed CSV
 * export grows its RSS by less than 64 MiB).
 */
export const LARGE_YOUNG_GENERATION: ReadonlySet<StartableServiceName> = new Set([
  'ingestion',
  'membership',
]);

/** The Node flags a service runs with: source maps, and its young generation. */
export function serviceNodeFlags(name: StartableServiceName): string[] {
  return [
    '--enable-source-maps',
    ...(LARGE_YOUNG_GENERATION.has(name) ? ['--max-semi-space-size=64'] : []),
  ];
}

/** Starts one built service as a background process and waits until its /readyz answers 200. */
export async function startServiceProcess(
  options: ServiceProcessOptions,
): Promise<LaunchedProcess> {
  const entry = serviceEntry(options.name);
  if (!fs.existsSync(entry)) {
    throw new LocalInfraError(
      LocalInfraErrorCode.StartFailed,
      `${entry} is missing: run 'npm run build' first`,
    );
  }
  await checkPortsFree([options.grpcPort, options.httpPort], `the ${options.name} service`);
  const started = spawnDetached({
    command: process.execPath,
    args: [...serviceNodeFlags(options.name), entry],
    logFile: options.logFile,
    endpoint: `${LOOPBACK}:${options.grpcPort}`,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(options.env).filter(([, value]) => value !== undefined)),
      GRPC_HOST: LOOPBACK,
      GRPC_PORT: String(options.grpcPort),
      HTTP_HOST: LOOPBACK,
      HTTP_PORT: String(options.httpPort),
    },
  });
  await untilReady(
    started,
    `the ${options.name} service`,
    options.logFile,
    (signal) => waitForReadyz(options.httpPort, READY_TIMEOUT_MS, signal),
    options.signal,
  );
  return started;
}

/** Polls a service's /readyz until it answers 200. */
export function waitForReadyz(
  httpPort: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const url = `http://${LOOPBACK}:${httpPort}/readyz`;
  return retryUntilReady(url, timeoutMs, signal ? { signal } : {}, async (attemptMs) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(attemptMs) });
    if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  });
}

export interface ServiceStatus {
  readonly name: StartableServiceName;
  readonly running: boolean;
  readonly ready: boolean;
  /** Running and answering /healthz with 200 (what a liveness probe asks). */
  readonly alive: boolean;
  /** Why a running service is not alive: its /healthz answer, or none in time. */
  readonly health?: string;
  readonly pid?: number;
  readonly grpc: string;
  readonly http: string;
}

/**
 * Shoal's five services and the console as local background processes for `./shoal up`: pid files under
 * `.shoal/run/services`, logs under `.shoal/logs`. Idempotent like the infrastructure: a
 * running service is left as it is.
 */
export class LocalServices {
  private readonly home: string;
  private readonly log: (line: string) => void;

  constructor(options: { home?: string; log?: (line: string) => void } = {}) {
    this.home = resolveHome(options.home);
    this.log = options.log ?? (() => undefined);
  }

  logFile(name: StartableServiceName): string {
    return path.join(this.home, 'logs', `${name}.log`);
  }

  async up(
    env: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<StartableServiceName[]> {
    const started: StartableServiceName[] = [];
    for (const name of LOCAL_SERVICES) {
      if (this.runningPid(name) !== undefined) continue;
      const began = Date.now();
      const ports = SERVICE_PORTS[name];
      const process = await startServiceProcess({
        name,
        env,
        grpcPort: ports.grpc,
        httpPort: ports.http,
        logFile: this.logFile(name),
        ...(signal ? { signal } : {}),
      });
      writePidFile(this.pidFile(name), process.pid);
      this.log(
        `${name} ready in ${((Date.now() - began) / 1000).toFixed(1)} s (pid ${process.pid}, gRPC ${LOOPBACK}:${ports.grpc})`,
      );
      started.push(name);
    }
    return started;
  }

  /** Stops services in reverse order, each draining its work (SIGTERM, then SIGKILL after 20 s). */
  async down(): Promise<void> {
    for (const name of [...LOCAL_SERVICES].reverse()) await this.stop(name);
  }

  /**
   * Stops one service: SIGTERM, then SIGKILL once `timeoutMs` has passed (a hung process does not
   * run its SIGTERM handler). Answers how, or undefined when it was not running.
   */
  async stop(
    name: StartableServiceName,
    timeoutMs = STOP_TIMEOUT_MS,
  ): Promise<'stopped' | 'killed' | undefined> {
    const pid = this.runningPid(name);
    let how: 'stopped' | 'killed' | undefined;
    if (pid !== undefined) {
      how = await terminate(pid, [serviceEntry(name)], timeoutMs);
      this.log(`${name} ${how} (pid ${pid})`);
    }
    removeFile(this.pidFile(name));
    return how;
  }

  async status(): Promise<ServiceStatus[]> {
    return Promise.all(
      LOCAL_SERVICES.map(async (name) => {
        const pid = this.runningPid(name);
        const ports = SERVICE_PORTS[name];
        let ready = false;
        let health: string | undefined;
        if (pid !== undefined) {
          const probe = (path: string) =>
            fetch(`http://${LOOPBACK}:${ports.http}${path}`, {
              signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
            });
          [ready, health] = await Promise.all([
            probe('/readyz')
              .then((r) => r.status === 200)
              .catch(() => false),
            probe('/healthz').then(
              async (r) =>
                r.status === 200 ? undefined : `/healthz ${r.status} ${(await r.text()).trim()}`,
              () => `no answer to /healthz within ${PROBE_TIMEOUT_MS / 1000} s`,
            ),
          ]);
        }
        return {
          name,
          running: pid !== undefined,
          ready,
          alive: pid !== undefined && health === undefined,
          ...(health !== undefined ? { health } : {}),
          ...(pid !== undefined ? { pid } : {}),
          grpc: `${LOOPBACK}:${ports.grpc}`,
          http: `http://${LOOPBACK}:${ports.http}`,
        };
      }),
    );
  }

  private pidFile(name: StartableServiceName): string {
    return path.join(this.home, 'run', 'services', `${name}.pid`);
  }

  private runningPid(name: StartableServiceName): number | undefined {
    const pid = readPidFile(this.pidFile(name));
    if (pid !== undefined && isOurProcess(pid, [serviceEntry(name)])) return pid;
    return undefined;
  }
}
