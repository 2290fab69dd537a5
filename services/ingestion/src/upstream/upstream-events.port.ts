import type { UpstreamEvent } from '@shoal/contracts';

export const UPSTREAM_EVENTS = Symbol('UpstreamEvents');

/** The upstream events topic, for events accepted over gRPC. */
export interface UpstreamEventsPort {
  /** Appends events (keyed by user id, else anonymous id); resolves once all are acknowledged. */
  append(events: readonly UpstreamEvent[]): Promise<void>;
}
