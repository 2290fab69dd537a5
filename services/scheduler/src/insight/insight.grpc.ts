import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import type { GetMemberCountHistoryRequest, GetSegmentSummaryRequest } from '@shoal/contracts';
import type { CallContext } from '@shoal/platform';
import { refreshJobOf } from '../jobs/job';
import { InsightService } from './insight.service';
import { SystemStatusService } from './system-status.service';

/** The history, insight and system-status RPCs of SchedulerService. */
@Injectable()
export class InsightGrpc {
  constructor(
    private readonly insight: InsightService,
    private readonly system: SystemStatusService,
  ) {}

  async getMemberCountHistory(request: GetMemberCountHistoryRequest, { principal }: CallContext) {
    const { snapshots, churn } = await this.insight.history(request, principal);
    return {
      snapshots: snapshots.map((s) => ({
        day: s.day,
        memberCount: BigInt(s.memberCount),
        takenAt: timestampFromMs(s.takenAtMs),
        ...(s.valueSum === undefined ? {} : { valueSum: s.valueSum }),
        valueTrait: s.valueTrait ?? '',
      })),
      churn: churn.map((c) => ({
        day: c.day,
        entered: BigInt(c.entered),
        exited: BigInt(c.exited),
      })),
    };
  }

  async getSegmentSummary(request: GetSegmentSummaryRequest, { principal }: CallContext) {
    const s = await this.insight.summary(request.segmentId, principal);
    return {
      segmentId: s.segmentId,
      memberCount: BigInt(s.memberCount),
      ...(s.change30d === undefined ? {} : { change30d: BigInt(s.change30d) }),
      ...(s.change30dPercent === undefined ? {} : { change30dPercent: s.change30dPercent }),
      ...(s.lastRefreshedAtMs === undefined
        ? {}
        : { lastRefreshedAt: timestampFromMs(s.lastRefreshedAtMs) }),
      ...(s.nextRunAt ? { nextRunAt: timestampFromMs(s.nextRunAt.getTime()) } : {}),
      ...(s.lastJobStatus === undefined ? {} : { lastJobStatus: s.lastJobStatus }),
      state: s.state,
      entered30d: BigInt(s.entered30d),
      exited30d: BigInt(s.exited30d),
      valueTrait: s.valueTrait,
      valuedMemberCount: BigInt(s.valuedMemberCount),
      ...(s.valueSum === undefined ? {} : { valueSum: s.valueSum }),
      ...(s.valueSumChange30d === undefined ? {} : { valueSumChange30d: s.valueSumChange30d }),
      ...(s.valueSumChange30dPercent === undefined
        ? {}
        : { valueSumChange30dPercent: s.valueSumChange30dPercent }),
    };
  }

  async getSystemStatus(_request: unknown, { principal }: CallContext) {
    const status = await this.system.status(principal);
    return {
      services: status.services,
      consumerLag: status.consumerLag.map((l) => ({
        ...l,
        lag: BigInt(l.lag),
        maxPartitionLag: BigInt(l.maxPartitionLag),
      })),
      activeJobs: status.activeJobs.map(refreshJobOf),
      ...(status.lastFailure ? { lastFailure: refreshJobOf(status.lastFailure) } : {}),
    };
  }
}
