import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type LaunchedProcess,
  type ShoalServiceName,
  freePort,
  startServiceProcess,
  tailOf,
} from '@shoal/local-infra';

export const REPO_ROOT = resolve(__dirname, '../../../..');

/** Where the broker and the store are, and whether this run started them. */
export interface Infrastructure {
  readonly kafka: string;
  readonly mongo: string;
  /** SHOAL_HOME of infrastructure this run started (and stops); undefined for running ones. */
  readonly home?: string;
  readonly env: Readonly<Record<string, string>>;
}

/** The ports of the bench's own infrastructure: `./shoal infra up` under its own SHOAL_HOME. */
export interface OwnInfrastructure {
  readonly home: string;
  readonly kafkaPort: number;
  readonly controllerPort: number;
  readonly mongoPort: number;
}

function shoal(args: string[], env: Record<string, string>): string {
  const result = spawnSync('bash', [join(REPO_ROOT, 'shoal'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`./shoal ${args.join(' ')} failed: ${result.stderr.slice(-2_000)}`);
  }
  return result.stdout;
}

export function startOwnInfrastructure(own: OwnInfrastructure): Infrastructure {
  const env = {
    SHOAL_HOME: own.home,
    SHOAL_KAFKA_PORT: String(own.kafkaPort),
    SHOAL_KAFKA_CONTROLLER_PORT: String(own.controllerPort),
    SHOAL_MONGO_PORT: String(own.mongoPort),
  };
  shoal(['infra', 'up'], env);
  return {
    kafka: `127.0.0.1:${own.kafkaPort}`,
    mongo: `mongodb://127.0.0.1:${own.mongoPort}/?directConnection=true`,
    home: own.home,
    env,
  };
}

export function stopOwnInfrastructure(infra: Infrastructure): void {
  if (infra.home !== undefined) shoal(['infra', 'down'], { ...infra.env });
}

/** The pid of the own infrastructure's Kafka or store JVM, from `./shoal infra`'s pid files. */
export function infraPid(infra: Infrastructure, component: 'kafka' | 'mongo'): number | undefined {
  if (infra.home === undefined) return undefined;
  const file = join(infra.home, 'run', `${component}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Bytes of the own store's files (the H2 MVStore file), or undefined for a running store. */
export function storeFileBytes(infra: Infrastructure): number | undefined {
  if (infra.home === undefined) return undefined;
  const file = join(infra.home, 'data', 'mongo', 'shoal.mv');
  return existsSync(file) ? statSync(file).size : undefined;
}

/** A built service started as a process on free ports. */
export interface ServiceHandle {
  readonly name: ShoalServiceName;
  readonly process: LaunchedProcess;
  readonly grpc: string;
  readonly httpPort: number;
  readonly logFile: string;
}

export async function startService(
  name: ShoalServiceName,
  env: Record<string, string>,
  logDir: string,
  label: string = name,
): Promise<ServiceHandle> {
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const logFile = join(logDir, `${label}.log`);
  const process = await startServiceProcess({ name, env, grpcPort, httpPort, logFile });
  return { name, process, grpc: `127.0.0.1:${grpcPort}`, httpPort, logFile };
}

export function logTail(service: ServiceHandle, lines = 20): string[] {
  return tailOf(service.logFile, lines);
}

/** Resident memory (bytes) and CPU seconds (user + system) of a process, from /proc. */
export interface ProcessUsage {
  readonly rss: number;
  readonly cpuSeconds: number;
}

const CLOCK_TICKS = 100;

export function usageOf(pid: number): ProcessUsage | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    // fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rss: rssKb * 1024, cpuSeconds: ticks / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * Samples the RSS of named processes every second: the peak of each, and CPU seconds at marks
 * the run sets (so each measure can be given as CPU-seconds per unit of work).
 */
export class ProcessSampler {
  private readonly pids = new Map<string, number>();
  readonly peakRss = new Map<string, number>();
  readonly lastRss = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.sample(), 1_000);
    this.timer.unref();
  }

  watch(name: string, pid: number | undefined): void {
    if (pid !== undefined) this.pids.set(name, pid);
    this.sample();
  }

  forget(name: string): void {
    this.pids.delete(name);
  }

  sample(): void {
    for (const [name, pid] of this.pids) {
      const usage = usageOf(pid);
      if (usage === undefined) continue;
      this.lastRss.set(name, usage.rss);
      this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, usage.rss));
    }
  }

  /** CPU seconds so far of every watched process. */
  cpu(): Map<string, number> {
    const seconds = new Map<string, number>();
    for (const [name, pid] of this.pids) {
      const usage = usageOf(pid);
      if (usage !== undefined) seconds.set(name, usage.cpuSeconds);
    }
    return seconds;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** CPU seconds each process used between two `ProcessSampler.cpu()` readings. */
export function cpuBetween(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [name, seconds] of after) {
    used[name] = Math.round((seconds - (before.get(name) ?? 0)) * 10) / 10;
  }
  return used;
}
