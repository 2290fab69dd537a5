import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type DescMethod, type DescService, create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/token-verifier';
import type { Metrics } from '../metrics/metrics';
import { childContext, parseTraceparent, runInTrace } from '../tracing/trace-context';
import { CallSignal } from './call-signal';
import type { CallContext, GrpcServiceHandlers } from './handlers';
import { HealthService } from './health-service';
import {
  decodeRequest,
  healthReflectionDefinition,
  methodPath,
  reflectionPackageDefinition,
  serverDefinition,
} from './service-definition';
import { withStoreTimeLimit } from '../mongo/store-time-limit';
import { toGrpcFailure } from './status';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  /** The longest a call's store reads may take (less when its deadline is nearer). */
  readonly storeReadTimeLimitMs?: number;
  readonly tls?: { certFile: string; keyFile: string; clientCaFile?: string | undefined };
}

type AnyCall =
  | grpc.ServerUnaryCall<Buffer, unknown>
  | grpc.ServerWritableStream<Buffer, unknown>
  | grpc.ServerReadableStream<Buffer, unknown>;
type AnyHandler = (request: never, context: CallContext) => unknown;

/** A served method's path and its metric labels, made once at registration, not per call. */
interface Route {
  readonly method: DescMethod;
  readonly path: string;
  readonly labels: { readonly method: string };
}

/**
 * A grpc-js server serving protobuf-es service descriptors. Every call of a registered
 * service is authenticated (bearer JWT), decoded, traced, timed and its errors translated;
 * the standard health service and server reflection are served alongside, unauthenticated.
 */
export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly health = new HealthService({ '': 'NOT_SERVING' });
  private readonly services: DescService[] = [];
  private readonly requests;
  private readonly durations;

  constructor(
    private readonly options: GrpcServerOptions,
    private readonly verifier: TokenVerifier,
    private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': options.maxMessageBytes,
      // nothing serves channelz, and its bookkeeping costs every call
      'grpc.enable_channelz': 0,
    });
    this.requests = metrics.counter('shoal_grpc_requests_total', 'gRPC calls served', [
      'method',
      'code',
    ]);
    this.durations = metrics.histogram(
      'shoal_grpc_request_duration_seconds',
      'gRPC call duration',
      ['method'],
    );
  }

  register<S extends DescService>(service: S, handlers: GrpcServiceHandlers<S>): void {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const handler = (handlers as unknown as Record<string, AnyHandler>)[method.localName];
      if (typeof handler !== 'function')
        throw new Error(`${service.typeName} has no handler for ${method.name}`);
      const bound = handler.bind(handlers) as AnyHandler;
      const path = methodPath(service, method.name);
      const route: Route = { method, path, labels: { method: path } };
      if (method.methodKind === 'unary')
        implementation[method.localName] = this.unary(route, bound);
      else if (method.methodKind === 'server_streaming')
        implementation[method.localName] = this.serverStreaming(route, bound);
      else if (method.methodKind === 'client_streaming')
        implementation[method.localName] = this.clientStreaming(route, bound);
      else
        throw new Error(
          `${method.methodKind} RPCs are not supported (${service.typeName}.${method.name})`,
        );
    }
    this.server.addService(serverDefinition(service), implementation);
    this.services.push(service);
  }

  /** Binds and starts serving; returns the bound port. Health reports NOT_SERVING until setServing(true). */
  async start(): Promise<number> {
    this.health.addToServer(this.server);
    // reflection describes Shoal's services and the standard health service alike
    const described = {
      ...healthReflectionDefinition(),
      ...reflectionPackageDefinition(this.services),
    };
    new ReflectionService(described as never).addToServer(this.server);
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        `${this.options.host}:${this.options.port}`,
        this.credentials(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
    this.logger.info(
      {
        host: this.options.host,
        port,
        tls: !!this.options.tls,
        services: this.services.map((s) => s.typeName),
      },
      'gRPC server listening',
    );
    return port;
  }

  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    for (const service of this.services) this.health.setStatus(service.typeName, status);
  }

  /** Stops accepting calls and waits for running ones, up to `graceMs`, then cuts the rest. */
  async stop(graceMs = 10_000): Promise<void> {
    this.setServing(false);
    this.health.endWatches();
    const timer = setTimeout(() => this.server.forceShutdown(), graceMs);
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    clearTimeout(timer);
  }

  private credentials(): grpc.ServerCredentials {
    const tls = this.options.tls;
    if (!tls) return grpc.ServerCredentials.createInsecure();
    return grpc.ServerCredentials.createSsl(
      tls.clientCaFile ? readFileSync(tls.clientCaFile) : null,
      [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
      !!tls.clientCaFile,
    );
  }

  private unary(route: Route, handler: AnyHandler): grpc.handleUnaryCall<Buffer, unknown> {
    const { method } = route;
    return (call, callback) => {
      void this.serve(route, call, async (context) =>
        create(
          method.output,
          (await handler(decodeRequest(method, call.request) as never, context)) as never,
        ),
      ).then(
        (response) => callback(null, response),
        (failure: grpc.ServiceError) => callback(failure),
      );
    };
  }

  private serverStreaming(
    route: Route,
    handler: AnyHandler,
  ): grpc.handleServerStreamingCall<Buffer, unknown> {
    const { method } = route;
    return (call) => {
      void this.serve(route, call, async (context) => {
        const request = decodeRequest(method, call.request);
        const items = handler(request as never, context) as AsyncIterable<unknown>;
        for await (const item of items) {
          if (context.signal.aborted) return;
          if (!call.write(create(method.output, item as never))) {
            // wait for the client to catch up; an abort ends the wait (and the loop above)
            await once(call, 'drain', { signal: context.signal }).catch(() => undefined);
          }
        }
      }).then(
        () => call.end(),
        (failure: grpc.ServiceError) => call.emit('error', failure),
      );
    };
  }

  /**
   * The handler reads the requests as they arrive (with the stream's backpressure); nothing is
   * read before the caller is authenticated.
   */
  private clientStreaming(
    route: Route,
    handler: AnyHandler,
  ): grpc.handleClientStreamingCall<Buffer, unknown> {
    const { method } = route;
    return (call, callback) => {
      void this.serve(route, call, async (context) => {
        const requests = (async function* () {
          for await (const bytes of call as AsyncIterable<Buffer>) {
            yield decodeRequest(method, bytes);
          }
        })();
        return create(method.output, (await handler(requests as never, context)) as never);
      }).then(
        (response) => callback(null, response),
        (failure: grpc.ServiceError) => callback(failure),
      );
    };
  }

  /** Authenticates, then runs one call (which decodes its requests); rejects with a grpc-js status object. */
  private serve<T>(
    route: Route,
    call: AnyCall,
    run: (context: CallContext) => Promise<T>,
  ): Promise<T> {
    const path = route.path;
    const started = performance.now();
    const trace = childContext(parseTraceparent(headerOf(call.metadata, 'traceparent')));
    const deadline = deadlineOf(call.getDeadline());
    const cancellation = new CallSignal(call, deadline);
    const finish = (code: grpc.status) => {
      cancellation.release();
      this.durations.observe(route.labels, (performance.now() - started) / 1000);
      this.requests.inc({ method: path, code: grpc.status[code] ?? String(code) });
    };
    return runInTrace(trace, async () => {
      try {
        const principal = await this.verifier.verifyAuthorization(
          headerOf(call.metadata, 'authorization'),
        );
        const context: CallContext = {
          principal,
          deadline,
          get signal() {
            return cancellation.signal;
          },
          header: (name) => headerOf(call.metadata, name),
        };
        const limitMs = this.options.storeReadTimeLimitMs;
        const result =
          limitMs === undefined
            ? await run(context)
            : await withStoreTimeLimit(
                {
                  limitMs,
                  deadline,
                  stream: route.method.methodKind !== 'unary',
                },
                () => run(context),
              );
        finish(grpc.status.OK);
        return result;
      } catch (error) {
        const failure = toGrpcFailure(error);
        finish(failure.code);
        if (failure.code === grpc.status.INTERNAL)
          this.logger.error({ err: error, method: path }, 'gRPC call failed');
        else
          this.logger.debug(
            { method: path, code: grpc.status[failure.code], details: failure.details },
            'gRPC call refused',
          );
        throw failure;
      }
    });
  }
}

function headerOf(metadata: grpc.Metadata, name: string): string | undefined {
  const value = metadata.get(name)[0];
  return typeof value === 'string' ? value : undefined;
}

function deadlineOf(deadline: grpc.Deadline): Date | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? new Date(at) : undefined;
}
