import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics';
import type { Clock } from '../time/clock';

export interface RestartBackoff {
  /** The longest first wait; each further failed attempt doubles it, up to `maxMs`. */
  readonly initialMs: number;
  readonly maxMs: number;
}

/** From a second to half a minute: quick after a blip, gentle on a broker that is coming back. */
export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 1_000, maxMs: 30_000 };

/**
 * The wait before restart attempt `attempt` (1 for the first): exponential and capped, then
 * jittered between half and all of it, so the instances of a service that lost the broker
 * together do not all rejoin their groups in the same instant.
 */
export function restartDelayMs(
  attempt: number,
  backoff: RestartBackoff,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Why a consumer is down, since when, and when it is tried again. */
export interface ConsumerDown {
  readonly reason: string;
  readonly since: Date;
  readonly attempt: number;
  /** Until the attempt starts; undefined while it is under way (recreating, rejoining). */
  readonly nextAttemptInMs: number | undefined;
}

/**
 * Brings a consumer that kafkajs gave up on (a non-retriable error, e.g. no group coordinator
 * found during a long broker outage) back: `restart` recreates and rejoins it after a bounded,
 * jittered backoff, again after each failed attempt, until the consumer joins its group
 * (`joined`) or is stopped. While it is down, `down` says why, for readiness; the process stays
 * alive, since a restarted process would only wait for the same broker.
 */
export class ConsumerRestarts {
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private outage: { reason: string; since: Date; nextAttemptAt: number } | undefined;
  private readonly restarts;
  private readonly downGauge;

  constructor(
    private readonly options: {
      readonly group: string;
      readonly restart: () => Promise<void>;
      readonly clock: Clock;
      readonly logger: Logger;
      readonly metrics: Metrics;
      readonly backoff?: RestartBackoff;
      readonly random?: () => number;
    },
  ) {
    this.restarts = options.metrics.counter(
      'shoal_kafka_consumer_restarts_total',
      'times a consumer kafkajs gave up on was recreated',
      ['group'],
    );
    this.downGauge = options.metrics.gauge(
      'shoal_kafka_consumer_down',
      '1 while a consumer kafkajs gave up on waits to be recreated or to rejoin its group',
      ['group'],
    );
  }

  /** The consumer stopped for good as far as kafkajs is concerned: try again after a backoff. */
  gaveUp(reason: string): void {
    if (this.stopped) return;
    const now = this.options.clock.now();
    this.attempt += 1;
    const delay = restartDelayMs(
      this.attempt,
      this.options.backoff ?? DEFAULT_RESTART_BACKOFF,
      this.options.random,
    );
    this.outage = {
      reason,
      since: this.outage?.since ?? now,
      nextAttemptAt: now.getTime() + delay,
    };
    this.downGauge.set({ group: this.options.group }, 1);
    this.options.logger.warn(
      { group: this.options.group, reason, attempt: this.attempt, restartInMs: delay },
      'consumer down; recreating it after a backoff',
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attemptRestart(), delay);
  }

  /** The consumer is in its group again: the next outage starts from the shortest backoff. */
  joined(): void {
    if (this.outage === undefined) return;
    const downForMs = this.options.clock.now().getTime() - this.outage.since.getTime();
    this.options.logger.info(
      { group: this.options.group, downForMs, attempts: this.attempt },
      'consumer back in its group',
    );
    this.attempt = 0;
    this.outage = undefined;
    this.downGauge.set({ group: this.options.group }, 0);
  }

  /** Undefined while the consumer is not down. */
  get down(): ConsumerDown | undefined {
    if (this.outage === undefined) return undefined;
    const now = this.options.clock.now().getTime();
    return {
      reason: this.outage.reason,
      since: this.outage.since,
      attempt: this.attempt,
      nextAttemptInMs:
        this.timer === undefined ? undefined : Math.max(0, this.outage.nextAttemptAt - now),
    };
  }

  /** No further attempts (the consumer is being stopped). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async attemptRestart(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    this.restarts.inc({ group: this.options.group });
    try {
      await this.options.restart();
    } catch (error) {
      this.gaveUp(`restart failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** A consumer's down state as a readiness detail. */
export function describeDown(group: string, down: ConsumerDown): string {
  const attempt =
    down.nextAttemptInMs === undefined
      ? `attempt ${down.attempt} under way`
      : `attempt ${down.attempt} in ${Math.ceil(down.nextAttemptInMs / 1000)} s`;
  return `consumer ${group} down since ${down.since.toISOString()}, recreating it (${attempt}): ${down.reason}`;
}
