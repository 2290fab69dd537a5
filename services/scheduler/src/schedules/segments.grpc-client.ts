import { Inject, Injectable } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { type RefreshPolicy, type Segment, SegmentService } from '@shoal/contracts';
import {
  CONFIG,
  type CallOptions,
  ErrorKind,
  GrpcCallError,
  type GrpcClient,
  ServiceClients,
} from '@shoal/platform';
import type { SchedulerConfig } from '../service';
import type { OnBehalfOf, SegmentDefinitionsPort } from './segment-definitions.port';
import { ScheduleError } from './schedules.errors';

/** The segments service's SegmentService, called with the caller's own token. */
@Injectable()
export class SegmentsGrpcClient implements SegmentDefinitionsPort {
  private client?: GrpcClient<typeof SegmentService>;

  constructor(
    private readonly clients: ServiceClients,
    @Inject(CONFIG) private readonly config: SchedulerConfig,
  ) {}

  async get(segmentId: string, caller: OnBehalfOf): Promise<Segment> {
    const { segment } = await this.call((client) =>
      client.getSegment({ id: segmentId }, optionsOf(caller)),
    );
    if (!segment) throw ScheduleError.segmentsAnswered(ErrorKind.Internal, 'an empty segment');
    return segment;
  }

  async setRefresh(
    segment: { readonly id: string; readonly version: bigint },
    refresh: RefreshPolicy,
    caller: OnBehalfOf,
  ): Promise<Segment> {
    const { segment: updated } = await this.call((client) =>
      client.updateSegment(
        {
          id: segment.id,
          expectedVersion: segment.version,
          segment: { refresh },
          updateMask: { paths: ['refresh'] },
        },
        optionsOf(caller),
      ),
    );
    if (!updated) throw ScheduleError.segmentsAnswered(ErrorKind.Internal, 'an empty segment');
    return updated;
  }

  private async call<T>(call: (client: GrpcClient<typeof SegmentService>) => Promise<T>) {
    this.client ??= this.clients.connectForCallers(
      SegmentService,
      this.config.SCHEDULER_SEGMENTS_ADDRESS,
    );
    try {
      return await call(this.client);
    } catch (error) {
      if (!(error instanceof GrpcCallError)) throw error;
      throw ScheduleError.segmentsAnswered(
        KIND_OF_STATUS.get(error.code) ?? ErrorKind.Unavailable,
        error.details,
        error.reason,
        error.violations,
      );
    }
  }
}

function optionsOf(caller: OnBehalfOf): CallOptions {
  return {
    headers: caller.authorization ? { authorization: caller.authorization } : {},
    ...(caller.signal ? { signal: caller.signal } : {}),
  };
}

/** A status the segments service answered, as this service answers it (others: unavailable). */
const KIND_OF_STATUS = new Map<status, ErrorKind>([
  [status.INVALID_ARGUMENT, ErrorKind.InvalidArgument],
  [status.NOT_FOUND, ErrorKind.NotFound],
  [status.ALREADY_EXISTS, ErrorKind.AlreadyExists],
  [status.FAILED_PRECONDITION, ErrorKind.FailedPrecondition],
  [status.ABORTED, ErrorKind.Aborted],
  [status.PERMISSION_DENIED, ErrorKind.PermissionDenied],
  [status.UNAUTHENTICATED, ErrorKind.Unauthenticated],
  [status.RESOURCE_EXHAUSTED, ErrorKind.ResourceExhausted],
  [status.INTERNAL, ErrorKind.Internal],
  [status.UNKNOWN, ErrorKind.Internal],
  [status.DATA_LOSS, ErrorKind.Internal],
]);
