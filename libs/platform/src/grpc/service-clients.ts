import { readFileSync } from 'node:fs';
import type { DescService } from '@bufbuild/protobuf';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import { PLATFORM, type PlatformContext } from '../app/platform-context';
import { ConfigError } from '../config/config';
import { type GrpcClient, type GrpcClientOptions, createGrpcClient } from './grpc-client';

/**
 * Clients for calling other Shoal services: TLS when GRPC_CLIENT_TLS_CA_FILE is set (presenting a
 * client certificate for mTLS when one is configured) and the configured default deadline. A
 * client either speaks for this service (its short-lived service token on every call) or for
 * the caller it serves (the caller's own token, passed on per call). Clients are closed when the
 * application shuts down.
 */
@Injectable()
export class ServiceClients implements OnApplicationShutdown {
  private readonly open: { close(): void }[] = [];

  constructor(@Inject(PLATFORM) private readonly platform: PlatformContext) {}

  /** A client whose calls carry this service's token. */
  connect<S extends DescService>(service: S, address: string): GrpcClient<S> {
    const { serviceTokens } = this.platform;
    if (!serviceTokens) {
      throw new ConfigError([
        { variable: 'SERVICE_TOKEN_KEY_FILE', message: `needed to call ${service.typeName}` },
      ]);
    }
    return this.client(service, address, () => serviceTokens.token());
  }

  /**
   * A client with no token of its own, for calls made on behalf of a caller: each call passes
   * the caller's `authorization` header (`headers`), so the other service decides exactly as for
   * a direct call by that caller. A call without it is UNAUTHENTICATED there, never this
   * service's.
   */
  connectForCallers<S extends DescService>(service: S, address: string): GrpcClient<S> {
    return this.client(service, address);
  }

  onApplicationShutdown(): void {
    for (const client of this.open.splice(0)) client.close();
  }

  private client<S extends DescService>(
    service: S,
    address: string,
    token?: GrpcClientOptions['token'],
  ): GrpcClient<S> {
    const { config } = this.platform;
    const client = createGrpcClient(service, {
      address,
      credentials: config.GRPC_CLIENT_TLS_CA_FILE
        ? grpc.credentials.createSsl(
            readFileSync(config.GRPC_CLIENT_TLS_CA_FILE),
            config.GRPC_CLIENT_TLS_KEY_FILE ? readFileSync(config.GRPC_CLIENT_TLS_KEY_FILE) : null,
            config.GRPC_CLIENT_TLS_CERT_FILE
              ? readFileSync(config.GRPC_CLIENT_TLS_CERT_FILE)
              : null,
          )
        : grpc.credentials.createInsecure(),
      ...(token ? { token } : {}),
      deadlineMs: config.GRPC_CLIENT_DEADLINE_MS,
      maxMessageBytes: config.GRPC_MAX_MESSAGE_BYTES,
    });
    this.open.push(client);
    return client;
  }
}
