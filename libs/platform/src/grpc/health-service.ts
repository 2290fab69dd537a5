import { type DescMethod, create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { DomainError, ErrorKind } from '../errors/domain-error';
import { decodeRequest, healthServiceDescriptor, serverDefinition } from './service-definition';
import { toGrpcFailure } from './status';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** grpc.health.v1.HealthCheckResponse.ServingStatus numbers. */
const STATUS_NUMBER = { SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

/**
 * The standard grpc.health.v1.Health service (Check, Watch, List), needing no token. Requests are
 * decoded here like those of Shoal's services, so malformed bytes are INVALID_ARGUMENT, and
 * failures go through the one status translation, so they stay bounded.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watches = new Map<string, Set<grpc.ServerWritableStream<Buffer, unknown>>>();
  private readonly descriptor = healthServiceDescriptor();
  private readonly check = this.method('Check');

  constructor(initial: Readonly<Record<string, ServingStatus>>) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  setStatus(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const call of this.watches.get(service) ?? []) call.write(this.response(status));
  }

  /** Ends every Watch stream, so a server shutting down is not held open by watchers. */
  endWatches(): void {
    for (const calls of this.watches.values()) for (const call of calls) call.end();
    this.watches.clear();
  }

  addToServer(server: grpc.Server): void {
    const check = this.check;
    const watch = this.method('Watch');
    const list = this.method('List');
    const implementation: grpc.UntypedServiceImplementation = {
      [check.localName]: (
        call: grpc.ServerUnaryCall<Buffer, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        try {
          const service = this.requestedService(check, call.request);
          const status = this.statuses.get(service);
          if (!status) {
            throw new DomainError(ErrorKind.NotFound, 'SERVICE_UNKNOWN', 'no such service');
          }
          callback(null, this.response(status));
        } catch (error) {
          callback(toGrpcFailure(error));
        }
      },
      [watch.localName]: (call: grpc.ServerWritableStream<Buffer, unknown>) => {
        let service: string;
        try {
          service = this.requestedService(watch, call.request);
        } catch (error) {
          call.emit('error', toGrpcFailure(error));
          return;
        }
        const watching = this.watches.get(service) ?? new Set();
        this.watches.set(service, watching.add(call));
        call.once('cancelled', () => watching.delete(call));
        call.write(this.response(this.statuses.get(service) ?? 'SERVICE_UNKNOWN'));
      },
      [list.localName]: (
        call: grpc.ServerUnaryCall<Buffer, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        try {
          decodeRequest(list, call.request);
          const statuses = Object.fromEntries(
            [...this.statuses].map(([service, status]) => [service, this.response(status)]),
          );
          callback(null, create(list.output, { statuses } as never));
        } catch (error) {
          callback(toGrpcFailure(error));
        }
      },
    };
    server.addService(serverDefinition(this.descriptor), implementation);
  }

  private method(name: string): DescMethod {
    const method = this.descriptor.methods.find((m) => m.name === name);
    if (!method) throw new Error(`grpc.health.v1.Health has no ${name}`);
    return method;
  }

  private requestedService(method: DescMethod, bytes: Buffer): string {
    return (decodeRequest(method, bytes) as unknown as { service: string }).service;
  }

  private response(status: keyof typeof STATUS_NUMBER) {
    return create(this.check.output, { status: STATUS_NUMBER[status] } as never);
  }
}
