import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/**
 * W3C trace context (traceparent) carried through gRPC metadata and Kafka headers, so an
 * OpenTelemetry collector can stitch a customer event's path across services. Shoal itself
 * only propagates and logs it; exporting spans is a deployment choice.
 */
export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

const storage = new AsyncLocalStorage<TraceContext>();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  const match = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

/**
 * Random bytes for ids, filled 4 KiB at a time: every gRPC call and consumed record starts a
 * span, and asking the system for 8 or 16 bytes each time cost ~4% of an IsMember call.
 */
const pool = Buffer.alloc(4_096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return /^0+$/.test(hex) ? randomHex(bytes) : hex;
}

/** A child span of the given parent, or the root of a new trace. */
export function childContext(parent?: TraceContext): TraceContext {
  return {
    traceId: parent?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    sampled: parent?.sampled ?? false,
  };
}

export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

export function runInTrace<T>(context: TraceContext, fn: () => T): T {
  return storage.run(context, fn);
}
