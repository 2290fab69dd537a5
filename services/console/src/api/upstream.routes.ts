import { readFileSync } from 'node:fs';
import type { SecureClientSessionOptions } from 'node:http2';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import {
  type CallOptions,
  type ConnectRouter,
  type HandlerContext,
  type ServiceImpl,
  createClient,
  createContextKey,
} from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { ConsoleConfig } from '../service';
import type { ConsoleSession } from '../sessions/session';
import { SessionError } from '../sessions/sessions.errors';
import { CONSOLE_RPCS } from './console-rpcs';
import { toBrowserError } from './upstream-errors';

/** The signed-in session of a Connect call, set by the HTTP layer before the router runs. */
export const SESSION_KEY = createContextKey<ConsoleSession | undefined>(undefined, {
  description: 'console session',
});

type Unary = (request: unknown, options: CallOptions) => Promise<unknown>;
type ServerStreaming = (request: unknown, options: CallOptions) => AsyncIterable<unknown>;

/**
 * Connect routes that forward each allowed call to the service that owns it over gRPC, with
 * the caller's own token: the services decide what the user may see and do, as for any client.
 */
export function upstreamRoutes(config: ConsoleConfig): (router: ConnectRouter) => void {
  const tls: SecureClientSessionOptions | undefined = config.GRPC_CLIENT_TLS_CA_FILE
    ? {
        ca: readFileSync(config.GRPC_CLIENT_TLS_CA_FILE),
        ...(config.GRPC_CLIENT_TLS_CERT_FILE && config.GRPC_CLIENT_TLS_KEY_FILE
          ? {
              cert: readFileSync(config.GRPC_CLIENT_TLS_CERT_FILE),
              key: readFileSync(config.GRPC_CLIENT_TLS_KEY_FILE),
            }
          : {}),
      }
    : undefined;
  return (router) => {
    for (const forwarded of CONSOLE_RPCS) {
      const transport = createGrpcTransport({
        baseUrl: `${tls ? 'https' : 'http'}://${forwarded.address(config)}`,
        ...(tls ? { nodeOptions: tls } : {}),
        readMaxBytes: config.GRPC_MAX_MESSAGE_BYTES,
      });
      const client = createClient(forwarded.service, transport) as unknown as Record<
        string,
        Unary | ServerStreaming
      >;
      const methods = forwarded.rpcs.map((name) => {
        const method = forwarded.service.methods.find((m) => m.name === name);
        if (!method) throw new Error(`${forwarded.service.typeName} has no RPC ${name}`);
        return method;
      });
      const implementation = Object.fromEntries(
        methods.map((method) => [method.localName, forward(method, client, config)]),
      );
      // the methods of a descriptor known only at run time: the typed form cannot name them
      router.service(
        forwarded.service,
        implementation as unknown as Partial<ServiceImpl<DescService>>,
      );
    }
  };
}

function forward(
  method: DescMethod,
  client: Record<string, Unary | ServerStreaming>,
  config: ConsoleConfig,
) {
  const call = client[method.localName];
  const options = (context: HandlerContext, unary: boolean): CallOptions => {
    const session = context.values.get(SESSION_KEY);
    if (!session) throw toBrowserError(SessionError.signedOut());
    const timeoutMs = context.timeoutMs() ?? (unary ? config.GRPC_CLIENT_DEADLINE_MS : undefined);
    return {
      headers: { authorization: `Bearer ${session.token}` },
      signal: context.signal,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    };
  };
  if (method.methodKind === 'server_streaming') {
    return async function* (request: unknown, context: HandlerContext) {
      try {
        yield* (call as ServerStreaming)(request, options(context, false));
      } catch (error) {
        throw toBrowserError(error);
      }
    };
  }
  if (method.methodKind !== 'unary')
    throw new Error(`${method.name}: only unary and server-streaming RPCs are forwarded`);
  return async (request: unknown, context: HandlerContext) => {
    try {
      return await (call as Unary)(request, options(context, true));
    } catch (error) {
      throw toBrowserError(error);
    }
  };
}
