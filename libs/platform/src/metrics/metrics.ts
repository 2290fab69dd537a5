import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per service, exposed on /metrics. Metrics are created on first use
 * and reused by name, so two callers asking for the same metric share it.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter | Histogram | Gauge>();

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.getOrCreate(
      name,
      () => new Counter({ name, help, labelNames, registers: [this.registry] }),
    );
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ): Histogram<L> {
    return this.getOrCreate(
      name,
      () => new Histogram({ name, help, labelNames, buckets, registers: [this.registry] }),
    );
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.getOrCreate(
      name,
      () => new Gauge({ name, help, labelNames, registers: [this.registry] }),
    );
  }

  private getOrCreate<M extends Counter<string> | Histogram<string> | Gauge<string>>(
    name: string,
    make: () => M,
  ): M {
    const existing = this.metrics.get(name);
    if (existing) return existing as M;
    const created = make();
    this.metrics.set(name, created);
    return created;
  }
}
