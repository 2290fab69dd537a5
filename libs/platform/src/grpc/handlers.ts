import type { DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { Principal } from '../auth/principal';

/** What a handler knows about the call besides the request. No grpc-js types leak here. */
export interface CallContext {
  /** The verified caller. */
  readonly principal: Principal;
  /** When the caller stops waiting; undefined when it set no deadline. */
  readonly deadline: Date | undefined;
  /** Aborted when the caller cancels or the deadline passes; pass it on to long work. */
  readonly signal: AbortSignal;
  /** A request header (gRPC metadata) value, for things like idempotency keys. */
  header(name: string): string | undefined;
}

type Input<M> = M extends { input: infer I extends DescMethod['input'] } ? I : never;
type Output<M> = M extends { output: infer O extends DescMethod['output'] } ? O : never;

export type UnaryHandler<M> = (
  request: MessageShape<Input<M>>,
  context: CallContext,
) => Promise<MessageInitShape<Output<M>>>;

export type ServerStreamingHandler<M> = (
  request: MessageShape<Input<M>>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<Output<M>>>;

/**
 * A client-streaming RPC: the requests as they arrive (an iteration that throws a
 * ValidationError for a malformed one), one response at the end.
 */
export type ClientStreamingHandler<M> = (
  requests: AsyncIterable<MessageShape<Input<M>>>,
  context: CallContext,
) => Promise<MessageInitShape<Output<M>>>;

/**
 * The methods a class must have to serve a protobuf service: one per RPC, named by the
 * RPC's localName (e.g. `getProfile`). Bidi-streaming RPCs are not offered.
 */
export type GrpcServiceHandlers<S extends DescService> = {
  [K in keyof S['method']]: S['method'][K] extends { methodKind: 'unary' }
    ? UnaryHandler<S['method'][K]>
    : S['method'][K] extends { methodKind: 'server_streaming' }
      ? ServerStreamingHandler<S['method'][K]>
      : S['method'][K] extends { methodKind: 'client_streaming' }
        ? ClientStreamingHandler<S['method'][K]>
        : never;
};

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/**
 * Serves one gRPC service from the adapters of several features: each RPC is answered by the one
 * adapter with a method of its name. Assign the result to `GrpcServiceHandlers<typeof TheService>`
 * and the compiler checks that together they serve every RPC with the right types; an RPC no
 * adapter or two adapters serve is refused here, at start-up.
 */
export function serveFrom<S extends DescService, A extends object[]>(
  service: S,
  ...adapters: A
): Intersection<A[number]> {
  const handlers: Record<string, unknown> = {};
  for (const method of service.methods) {
    const serving = adapters.filter(
      (a) => typeof (a as Record<string, unknown>)[method.localName] === 'function',
    );
    if (serving.length !== 1) {
      throw new Error(
        `${service.typeName}.${method.name} is served by ${serving.length} adapters; it needs exactly one`,
      );
    }
    const adapter = serving[0] as Record<string, (...args: unknown[]) => unknown>;
    handlers[method.localName] = adapter[method.localName]!.bind(adapter);
  }
  return handlers as Intersection<A[number]>;
}
