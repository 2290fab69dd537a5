import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '@shoal/platform';
import { SegmentCatalogue } from '../definitions/segment-catalogue';
import type { Job } from '../jobs/job';
import { JobsService } from '../jobs/jobs.service';
import {
  type LagAnswer,
  type ReadinessAnswer,
  SYSTEM_PROBE,
  type SystemProbePort,
} from './system-probe.port';

export interface SystemStatus {
  readonly services: ReadinessAnswer[];
  readonly consumerLag: LagAnswer[];
  readonly activeJobs: Job[];
  readonly lastFailure?: Job;
}

/** One view of the system: readiness, lag, the jobs queued or running, the last failure. */
@Injectable()
export class SystemStatusService {
  constructor(
    @Inject(SYSTEM_PROBE) private readonly probe: SystemProbePort,
    private readonly jobs: JobsService,
    private readonly catalogue: SegmentCatalogue,
  ) {}

  async status(principal: Principal): Promise<SystemStatus> {
    const seen = (job: Job | undefined) =>
      job !== undefined && this.catalogue.visible(job.segmentId, principal) !== undefined;
    const [services, consumerLag, active, lastFailure] = await Promise.all([
      this.probe.readiness(),
      this.probe.consumerLag(),
      this.jobs.activeJobs(),
      this.jobs.lastFailure(),
    ]);
    return {
      services,
      consumerLag,
      activeJobs: active.filter(seen),
      ...(seen(lastFailure) ? { lastFailure } : {}),
    };
  }
}
