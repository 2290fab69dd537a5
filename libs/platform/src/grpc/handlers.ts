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
