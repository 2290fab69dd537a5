import type { InfraComponent, ServiceStatus, StartableServiceName } from '@shoal/local-infra';
import { type Clock, type RestartBackoff, restartDelayMs } from '@shoal/platform';

/** What the supervisor needs of the local services (LocalServices). */
export interface SupervisedServices {
  status(): Promise<readonly ServiceStatus[]>;
  /** Starts every service that is not running, in order; answers which it started. */
  up(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<StartableServiceName[]>;
  /** Stops one service: SIGTERM, then SIGKILL after `timeoutMs`. */
  stop(name: StartableServiceName, timeoutMs: number): Promise<unknown>;
}

/** What the supervisor needs of the local Kafka broker and store (LocalInfra). */
export interface SupervisedInfra {
  /** Whether each has a process running (asked every check: no probe). */
  processes(): readonly { component: InfraComponent; running: boolean }[];
  /** Starts what is not running and waits until it is ready; answers what it started. */
  up(options: { signal?: AbortSignal }): Promise<{ started: InfraComponent[] }>;
}

type Supervised = StartableServiceName | InfraComponent;

/** From 2 s to a minute: a service that keeps exiting is not restarted in a tight loop. */
export const SUPERVISOR_BACKOFF: RestartBackoff = { initialMs: 2_000, maxMs: 60_000 };

/**
 * A restart counts as a recovery once the process has stayed up this long; exiting sooner (it
 * starts, then fails again: a store on a full disk) makes the next restart wait, with the same
 * backoff as failed starts, as a crash loop's restarts do under Kubernetes.
 */
export const SUPERVISOR_STABLE_MS = 60_000;

/**
 * When a running service counts as hung or broken, as the Helm chart's liveness probe judges:
 * `failures` failed /healthz probes in a row, counted at most once per `periodMs`. It is then
 * stopped (SIGKILL after `stopTimeoutMs`: a hung event loop runs no SIGTERM handler) and started.
 */
export interface LivenessPolicy {
  readonly periodMs: number;
  readonly failures: number;
  readonly stopTimeoutMs: number;
}
export const SUPERVISOR_LIVENESS: LivenessPolicy = {
  periodMs: 10_000,
  failures: 3,
  stopTimeoutMs: 5_000,
};

/** Failed liveness probes of a running service, in a row. */
interface Unhealthy {
  count: number;
  countedAt: number;
}

interface Restarts {
  /** Restarts that brought it back (ready). */
  count: number;
  /** Failed attempts since it was last running: the backoff grows with them. */
  failures: number;
  /** Not tried again before this (epoch ms). */
  notBefore: number;
  /** Restarts in a row each followed by an exit within SUPERVISOR_STABLE_MS. */
  quickExits: number;
  lastAt?: Date;
  lastError?: string;
  /** Why it was last restarted: its process exited, or it failed its liveness probes. */
  cause: 'exited' | 'unresponsive';
}

/**
 * Does for `./shoal up`'s processes what a container runtime's restart policy and liveness probe
 * do (Helm and compose restart containers): a service whose process has exited — start-up gave
 * up on a dependency that stayed away, an uncaught failure, an OOM kill — or that keeps failing
 * /healthz (hung, or broken: e.g. membership unable to release a partition) is started again,
 * with a jittered backoff that grows while its starts keep failing. Its summary says what it did.
 */
export class ServiceSupervisor {
  private readonly restarts = new Map<Supervised, Restarts>();
  private readonly unhealthy = new Map<StartableServiceName, Unhealthy>();
  private checking = false;

  constructor(
    private readonly options: {
      readonly services: SupervisedServices;
      /** The broker and store, when the supervisor is to restart them too (first). */
      readonly infra?: SupervisedInfra;
      readonly env: Readonly<Record<string, string>>;
      readonly clock: Clock;
      readonly log: (line: string) => void;
      readonly backoff?: RestartBackoff;
      readonly liveness?: LivenessPolicy;
      readonly random?: () => number;
      readonly signal?: AbortSignal;
    },
  ) {}

  /**
   * Starts the broker or store again when its process has exited (a crash, the store stopping
   * on a failed write), then stops the services that failed their liveness probes too often and
   * restarts those whose process has exited; each after its backoff; one check at a time.
   */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const now = this.options.clock.now().getTime();
      if (this.options.infra !== undefined) await this.checkInfra(this.options.infra, now);
      const statuses = await this.options.services.status();
      const stopped = this.unresponsive(statuses, now);
      for (const name of stopped) {
        this.entry(name).cause = 'unresponsive';
        await this.options.services.stop(name, this.liveness.stopTimeoutMs);
      }
      // those just stopped are down now too: no second round of probes to learn it
      const exited = statuses
        .filter((s) => !s.running || stopped.includes(s.name))
        .map((s) => s.name);
      await this.startAgain(exited, now, {
        // a service stopped for failing its probes keeps that cause
        exitedNow: (name) => !stopped.includes(name),
        start: () => this.options.services.up(this.options.env, this.options.signal),
        // `up` starts in order and stops at the first that fails: the rest wait for the next check
        stillDown: async () =>
          (await this.options.services.status()).filter((s) => !s.running).map((s) => s.name),
      });
    } finally {
      this.checking = false;
    }
  }

  /** Kafka and the store: what has exited is started again (the services wait for them meanwhile). */
  private async checkInfra(infra: SupervisedInfra, now: number): Promise<void> {
    const down = infra
      .processes()
      .filter((s) => !s.running)
      .map((s) => s.component);
    await this.startAgain(down, now, {
      exitedNow: () => true,
      start: async () => (await infra.up({ signal: this.options.signal })).started,
      // `up` starts both or neither
      stillDown: async (due) => due,
    });
  }

  /**
   * Starts again those of `down` whose backoff has passed, and records what came of it: the
   * restarted, and a failed start for each of them `stillDown` names afterwards.
   */
  private async startAgain<N extends Supervised>(
    down: readonly N[],
    now: number,
    how: {
      /** Down again after running, its process exited this time (a failing start keeps its cause). */
      exitedNow: (name: N) => boolean;
      start: () => Promise<readonly N[]>;
      /** After a failed start, those to count it against (of those due to start). */
      stillDown: (due: readonly N[]) => Promise<readonly N[]>;
    },
  ): Promise<void> {
    const due = down.filter((name) => (this.restarts.get(name)?.notBefore ?? 0) <= now);
    if (due.length === 0) return;
    for (const name of due) {
      const r = this.restarts.get(name);
      if (r && r.failures === 0 && how.exitedNow(name)) r.cause = 'exited';
    }
    this.options.log(`supervisor: ${due.join(', ')} not running; starting again`);
    try {
      for (const name of await how.start()) this.restarted(name);
    } catch (error) {
      for (const name of await how.stillDown(due))
        if (down.includes(name)) this.failed(name, error);
    }
  }

  /** One line per service the supervisor restarted or is trying to; none while it has done nothing. */
  summary(): string[] {
    const now = this.options.clock.now().getTime();
    return [...this.restarts].map(([name, r]) => {
      const restarted =
        r.count > 0
          ? `restarted ${r.count}× (last ${Math.round((now - (r.lastAt?.getTime() ?? now)) / 1000)} s ago)`
          : 'not restarted yet';
      const wait = `${Math.max(0, Math.ceil((r.notBefore - now) / 1000))} s`;
      const failing =
        r.failures > 0
          ? `; ${r.failures} failed start(s), next in ${wait}: ${r.lastError ?? ''}`
          : r.quickExits > 0 && r.notBefore > now
            ? `; it keeps exiting soon after a restart, the next waits ${wait}`
            : '';
      return `supervisor: ${name} ${r.cause}, ${restarted}${failing}`;
    });
  }

  private get liveness(): LivenessPolicy {
    return this.options.liveness ?? SUPERVISOR_LIVENESS;
  }

  /** Counts the failed liveness probes in `statuses`; answers the services to stop now. */
  private unresponsive(statuses: readonly ServiceStatus[], now: number): StartableServiceName[] {
    const { periodMs, failures } = this.liveness;
    const stop: StartableServiceName[] = [];
    for (const s of statuses) {
      if (!s.running || s.alive) {
        this.unhealthy.delete(s.name);
        continue;
      }
      const u = this.unhealthy.get(s.name) ?? { count: 0, countedAt: -Infinity };
      if (now - u.countedAt >= periodMs) {
        u.count += 1;
        u.countedAt = now;
      }
      this.unhealthy.set(s.name, u);
      if (u.count >= failures) {
        this.options.log(
          `supervisor: ${s.name} failed its liveness probe ${u.count} times (${s.health ?? 'unhealthy'}); stopping it`,
        );
        this.unhealthy.delete(s.name);
        stop.push(s.name);
      }
    }
    return stop;
  }

  private restarted(name: Supervised): void {
    const r = this.entry(name);
    const now = this.options.clock.now();
    // back again soon after the last restart: should it exit once more, the next restart waits
    const quick =
      r.lastAt !== undefined && now.getTime() - r.lastAt.getTime() < SUPERVISOR_STABLE_MS;
    r.quickExits = quick ? r.quickExits + 1 : 0;
    r.count += 1;
    r.failures = 0;
    r.notBefore = r.quickExits === 0 ? 0 : now.getTime() + this.backoffMs(r.quickExits);
    r.lastAt = now;
    delete r.lastError;
    this.options.log(
      `supervisor: ${name} restarted (${r.count}×)` +
        (r.quickExits === 0
          ? ''
          : `; it exited within ${SUPERVISOR_STABLE_MS / 1000} s of its last restart, so the next waits ${Math.ceil((r.notBefore - now.getTime()) / 1000)} s`),
    );
  }

  private failed(name: Supervised, error: unknown): void {
    const r = this.entry(name);
    r.failures += 1;
    r.lastError = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const delay = this.backoffMs(r.failures);
    r.notBefore = this.options.clock.now().getTime() + delay;
    this.options.log(
      `supervisor: ${name} did not start (${r.lastError}); next attempt in ${Math.ceil(delay / 1000)} s`,
    );
  }

  /** The jittered wait before the next start, after `n` failed starts or quick exits in a row. */
  private backoffMs(n: number): number {
    return restartDelayMs(n, this.options.backoff ?? SUPERVISOR_BACKOFF, this.options.random);
  }

  private entry(name: Supervised): Restarts {
    let r = this.restarts.get(name);
    if (r === undefined) {
      r = { count: 0, failures: 0, notBefore: 0, quickExits: 0, cause: 'exited' };
      this.restarts.set(name, r);
    }
    return r;
  }
}
