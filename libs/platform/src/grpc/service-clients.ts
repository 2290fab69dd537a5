import { readFileSync } from 'node:fs';
import type { DescService } from '@bufbuild/protobuf';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import { PLATFORM, type PlatformContext } from '../app/platform-context';
import { ConfigError } from '../config/config';
import { type GrpcClient, createGrpcClient } from './grpc-client';

/**
 * Clients for calling other Shoal services: each call carries this service's short-lived
 * service token, uses TLS when GRPC_CLIENT_TLS_CA_FILE is set (presenting a client certificate
 * for mTLS when one is configured), and has the configured default deadline. Clients are closed when the application shuts down.
 */
@Injectable()
export class ServiceClients implements OnApplicationShutdown {
  private readonly open: { close(): void }[] = [];

  constructor(@Inject(PLATFORM) private readonly platform: PlatformContext) {}

  connect<S extends DescService>(service: S, address: string): GrpcClient<S> {
    const { config, serviceTokens } = this.platform;
    if (!serviceTokens) {
      throw new ConfigError([
        { variable: 'SERVICE_TOKEN_KEY_FILE', message: `needed to call ${service.typeName}` },
      ]);
    }
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
      token: () => serviceTokens.token(),
      deadlineMs: config.GRPC_CLIENT_DEADLINE_MS,
      maxMessageBytes: config.GRPC_MAX_MESSAGE_BYTES,
    });
    this.open.push(client);
    return client;
  }

  onApplicationShutdown(): void {
    for (const client of this.open.splice(0)) client.close();
  }
}
