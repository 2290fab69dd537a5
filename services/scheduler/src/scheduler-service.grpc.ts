import { SchedulerService } from '@shoal/contracts';
import { GrpcService, type GrpcServiceHandlers, serveFrom } from '@shoal/platform';
import { InsightGrpc } from './insight/insight.grpc';
import { JobsGrpc } from './jobs/jobs.grpc';
import { SchedulesGrpc } from './schedules/schedules.grpc';

/** SchedulerService as served, each RPC by the adapter of the feature that owns it. */
@GrpcService(SchedulerService)
export class SchedulerServiceGrpc {
  constructor(schedules: SchedulesGrpc, jobs: JobsGrpc, insight: InsightGrpc) {
    const handlers: GrpcServiceHandlers<typeof SchedulerService> = serveFrom(
      SchedulerService,
      schedules,
      jobs,
      insight,
    );
    Object.assign(this, handlers);
  }
}
