import { once } from 'node:events';
import type { DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { childContext, currentTrace, formatTraceparent } from '../tracing/trace-context';
import { decoder, encoder, methodPath } from './service-definition';
import { GrpcCallError } from './status';

export interface CallOptions {
  /** Overrides the client's default deadline for this call. */
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
  /** Extra request metadata. */
  readonly headers?: Readonly<Record<string, string>>;
}

type Input<M> = M extends { input: infer I extends DescMethod['input'] } ? I : never;
type Output<M> = M extends { output: infer O extends DescMethod['output'] } ? O : never;

/** A typed client: one method per RPC, named by its localName. */
export type GrpcClient<S extends DescService> = {
  [K in keyof S['method']]: S['method'][K] extends { methodKind: 'unary' }
    ? (
        request: MessageInitShape<Input<S['method'][K]>>,
        options?: CallOptions,
      ) => Promise<MessageShape<Output<S['method'][K]>>>
    : S['method'][K] extends { methodKind: 'server_streaming' }
      ? (
          request: MessageInitShape<Input<S['method'][K]>>,
          options?: CallOptions,
        ) => AsyncIterable<MessageShape<Output<S['method'][K]>>>
      : S['method'][K] extends { methodKind: 'client_streaming' }
        ? (
            requests:
              | AsyncIterable<MessageInitShape<Input<S['method'][K]>>>
              | Iterable<MessageInitShape<Input<S['method'][K]>>>,
            options?: CallOptions,
          ) => Promise<MessageShape<Output<S['method'][K]>>>
        : never;
} & { close(): void };

export interface GrpcClientOptions {
  /** host:port */
  readonly address: string;
  readonly credentials?: grpc.ChannelCredentials;
  /** Bearer token for every call: a user's token, or a service token source. */
  readonly token?: () => Promise<string> | string;
  readonly deadlineMs?: number;
  readonly maxMessageBytes?: number;
}

export function createGrpcClient<S extends DescService>(
  service: S,
  options: GrpcClientOptions,
): GrpcClient<S> {
  const channel = new grpc.Client(
    options.address,
    options.credentials ?? grpc.credentials.createInsecure(),
    {
      'grpc.max_receive_message_length': options.maxMessageBytes ?? 4 * 1024 * 1024,
      'grpc.max_send_message_length': options.maxMessageBytes ?? 4 * 1024 * 1024,
      // nothing serves channelz, and its bookkeeping costs every call
      'grpc.enable_channelz': 0,
    },
  );
  const metadataFor = async (call: CallOptions | undefined) => {
    const metadata = new grpc.Metadata();
    const token = options.token ? await options.token() : undefined;
    if (token) metadata.set('authorization', `Bearer ${token}`);
    metadata.set('traceparent', formatTraceparent(childContext(currentTrace())));
    for (const [name, value] of Object.entries(call?.headers ?? {})) metadata.set(name, value);
    return metadata;
  };
  const callOptions = (call: CallOptions | undefined): grpc.CallOptions => {
    const deadlineMs = call?.deadlineMs ?? options.deadlineMs;
    return deadlineMs ? { deadline: new Date(Date.now() + deadlineMs) } : {};
  };

  const client: Record<string, unknown> = { close: () => channel.close() };
  for (const method of service.methods) {
    const path = methodPath(service, method.name);
    const serialize = (init: unknown) => encoder(method.input)(create(method.input, init as never));
    const deserialize = decoder(method.output);
    if (method.methodKind === 'unary') {
      client[method.localName] = async (request: unknown, call?: CallOptions) => {
        const metadata = await metadataFor(call);
        return new Promise((resolve, reject) => {
          let forget = () => {};
          const pending = channel.makeUnaryRequest(
            path,
            serialize,
            deserialize,
            request,
            metadata,
            callOptions(call),
            (error, response) => {
              forget();
              if (error) reject(GrpcCallError.from(error));
              else resolve(response);
            },
          );
          forget = onAbort(call?.signal, () => pending.cancel());
        });
      };
    } else if (method.methodKind === 'server_streaming') {
      client[method.localName] = (request: unknown, call?: CallOptions) => ({
        async *[Symbol.asyncIterator]() {
          const metadata = await metadataFor(call);
          const stream = channel.makeServerStreamRequest(
            path,
            serialize,
            deserialize,
            request,
            metadata,
            callOptions(call),
          );
          const forget = onAbort(call?.signal, () => stream.cancel());
          let finished = false;
          try {
            for await (const item of stream) yield item;
            finished = true;
          } catch (error) {
            finished = true;
            throw isServiceError(error) ? GrpcCallError.from(error) : error;
          } finally {
            forget();
            // a caller that stops iterating early ends the call, so the server stops producing
            if (!finished) stream.cancel();
          }
        },
      });
    } else if (method.methodKind === 'client_streaming') {
      client[method.localName] = async (
        requests: AsyncIterable<unknown> | Iterable<unknown>,
        call?: CallOptions,
      ) => {
        const metadata = await metadataFor(call);
        let stream: grpc.ClientWritableStream<unknown> | undefined;
        const response = new Promise((resolve, reject) => {
          stream = channel.makeClientStreamRequest(
            path,
            serialize,
            deserialize,
            metadata,
            callOptions(call),
            (error, result) => (error ? reject(GrpcCallError.from(error)) : resolve(result)),
          );
        });
        const writer = stream as grpc.ClientWritableStream<unknown>;
        const forget = onAbort(call?.signal, () => writer.cancel());
        // a call the server ended early (refused, failed) stops the writing; its status is the answer
        let over = false;
        const ended = response.then(
          () => (over = true),
          () => (over = true),
        );
        void ended.then(forget);
        for await (const request of requests) {
          if (over) break;
          if (!writer.write(request)) await Promise.race([once(writer, 'drain'), ended]);
        }
        writer.end();
        return response;
      };
    }
  }
  return client as GrpcClient<S>;
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return typeof error === 'object' && error !== null && 'code' in error && 'metadata' in error;
}

/** The calls in flight under one caller signal, and the one listener that cancels them all. */
interface SignalCalls {
  readonly cancels: Set<() => void>;
  readonly relay: () => void;
}
const callsBySignal = new WeakMap<AbortSignal, SignalCalls>();

/**
 * Cancels a call when the caller's signal aborts (at once when it already has); returns what
 * forgets the call again. However many calls share a signal (a pool of reads under one job's
 * signal), the signal holds one listener while any is in flight and none after.
 */
function onAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    cancel();
    return () => {};
  }
  let calls = callsBySignal.get(signal);
  if (!calls) {
    const cancels = new Set<() => void>();
    const relay = () => {
      callsBySignal.delete(signal);
      for (const each of cancels) each();
    };
    calls = { cancels, relay };
    callsBySignal.set(signal, calls);
    signal.addEventListener('abort', relay, { once: true });
  }
  const { cancels, relay } = calls;
  // each call gets its own entry, even when two pass the same function
  const entry = () => cancel();
  cancels.add(entry);
  return () => {
    if (!cancels.delete(entry) || cancels.size > 0) return;
    callsBySignal.delete(signal);
    signal.removeEventListener('abort', relay);
  };
}
