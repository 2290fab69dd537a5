import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type ServiceHealth, ServiceHealthSchema } from '@shoal/contracts';
import { answerWithin } from '../time/answer-within';

/** Something a service depends on. `check` resolves with a short status or throws why not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<string | void>;
}

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Aggregates the service's dependency checks into the readiness answer that /readyz and the
 * gRPC health service report. A check that does not answer within 2 s counts as not ready.
 */
export class Readiness {
  private readonly checks: ReadinessCheck[] = [];
  private started = false;
  private brokenBecause?: string;

  constructor(
    private readonly service: string,
    private readonly version: string,
  ) {}

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** Called once the service has started everything; until then it is not ready. */
  markStarted(): void {
    this.started = true;
  }

  markStopping(): void {
    this.started = false;
  }

  /**
   * Something failed that only a restart can fix (e.g. partitions whose state in memory could
   * not be released): liveness fails from now on, so the orchestrator restarts the process.
   * At-least-once delivery makes that safe. A consumer kafkajs gave up on is not such a case:
   * it is recreated in the process (consumer-restarts.ts).
   */
  markBroken(reason: string): void {
    this.brokenBecause ??= reason;
  }

  /** Why the process is no longer alive, or undefined while it is. */
  get broken(): string | undefined {
    return this.brokenBecause;
  }

  async evaluate(): Promise<ServiceHealth> {
    const dependencies = await Promise.all(this.checks.map((c) => runCheck(c)));
    const lifecycle = {
      name: 'lifecycle',
      ready: this.started,
      detail: this.started ? 'started' : 'not started',
      latencyMs: 0,
    };
    const all = [lifecycle, ...dependencies];
    return create(ServiceHealthSchema, {
      service: this.service,
      version: this.version,
      ready: all.every((d) => d.ready),
      dependencies: all,
      checkedAt: timestampFromDate(new Date()),
    });
  }
}

async function runCheck(check: ReadinessCheck) {
  const started = performance.now();
  try {
    const detail = await answerWithin(
      check.check(),
      CHECK_TIMEOUT_MS,
      () => new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`),
    );
    return {
      name: check.name,
      ready: true,
      detail: detail || 'ok',
      latencyMs: performance.now() - started,
    };
  } catch (error) {
    return {
      name: check.name,
      ready: false,
      detail: error instanceof Error ? error.message : String(error),
      latencyMs: performance.now() - started,
    };
  }
}
