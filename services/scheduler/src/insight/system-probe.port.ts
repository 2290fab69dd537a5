export const SYSTEM_PROBE = Symbol('SystemProbe');

export interface ReadinessAnswer {
  readonly service: string;
  readonly ready: boolean;
  readonly detail: string;
}

export interface LagAnswer {
  readonly group: string;
  readonly topic: string;
  readonly lag: number;
  readonly maxPartitionLag: number;
}

/** Looks at the running system: each service's readiness and each consumer group's lag. */
export interface SystemProbePort {
  readiness(): Promise<ReadinessAnswer[]>;
  consumerLag(): Promise<LagAnswer[]>;
}
