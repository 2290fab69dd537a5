import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import type {
  CancelJobRequest,
  GetJobRequest,
  ListJobsRequest,
  RefreshNowRequest,
} from '@shoal/contracts';
import { type CallContext, PageTokens, pageCursor, pageSize } from '@shoal/platform';
import { z } from 'zod';
import { refreshJobOf } from './job';
import { JobsService } from './jobs.service';

const JOBS_PAGE = pageCursor(
  'scheduler.jobs',
  z.object({ createdAtMs: z.number().int(), id: z.string().max(200) }),
);

/** The job RPCs of SchedulerService: the wire into use cases, no rules. */
@Injectable()
export class JobsGrpc {
  constructor(
    private readonly jobs: JobsService,
    @Inject(PageTokens) private readonly pageTokens: PageTokens,
  ) {}

  async refreshNow(request: RefreshNowRequest, { principal }: CallContext) {
    const jobs = await this.jobs.refreshNow(request.segmentIds, principal);
    return { jobs: jobs.map(refreshJobOf) };
  }

  async getJob(request: GetJobRequest, { principal }: CallContext) {
    return { job: refreshJobOf(await this.jobs.get(request.jobId, principal)) };
  }

  async cancelJob(request: CancelJobRequest, { principal }: CallContext) {
    return { job: refreshJobOf(await this.jobs.cancel(request.jobId, principal)) };
  }

  async listJobs(request: ListJobsRequest, { principal }: CallContext) {
    const limit = pageSize(request.page?.pageSize ?? 0, 50, 500);
    const query = {
      segmentId: request.segmentId,
      statuses: [...request.statuses].sort(),
      createdAfterMs: request.createdAfter ? timestampMs(request.createdAfter) : undefined,
      createdBeforeMs: request.createdBefore ? timestampMs(request.createdBefore) : undefined,
      subject: principal.subject,
    };
    const after = this.pageTokens.decode(JOBS_PAGE, request.page?.pageToken ?? '', query);
    const fetched = await this.jobs.list(
      {
        segmentId: request.segmentId,
        statuses: query.statuses,
        ...(query.createdAfterMs === undefined ? {} : { createdAfterMs: query.createdAfterMs }),
        ...(query.createdBeforeMs === undefined ? {} : { createdBeforeMs: query.createdBeforeMs }),
        ...(after ? { after } : {}),
        limit: limit + 1,
      },
      principal,
    );
    const page = this.pageTokens.pageOf(
      JOBS_PAGE,
      fetched,
      limit,
      (last) => ({ createdAtMs: last.createdAtMs, id: last.id }),
      query,
    );
    return { jobs: page.items.map(refreshJobOf), nextPageToken: page.nextPageToken };
  }
}
