import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { ChurnModule } from '../churn/churn.module';
import { DefinitionsModule } from '../definitions/definitions.module';
import { JobsModule } from '../jobs/jobs.module';
import { SchedulesModule } from '../schedules/schedules.module';
import type { SchedulerConfig } from '../service';
import { readinessUrlsOf } from './readiness-urls';
import { InsightGrpc } from './insight.grpc';
import { INSIGHT_SETTINGS, type InsightSettings, InsightService } from './insight.service';
import { MemberCounts } from './member-counts';
import { SegmentStatusFollower } from './segment-status.follower';
import { MongoSnapshotRepository } from './snapshots.mongo-repository';
import { SNAPSHOT_REPOSITORY } from './snapshots.repository.port';
import { HttpSystemProbe, READINESS_URLS } from './system-probe.http';
import { SYSTEM_PROBE } from './system-probe.port';
import { SystemStatusService } from './system-status.service';

const configuration = [
  {
    provide: INSIGHT_SETTINGS,
    useFactory: (config: SchedulerConfig): InsightSettings => ({
      snapshotSchedule: { cron: config.SCHEDULER_SNAPSHOT_CRON, timeZone: '' },
    }),
    inject: [CONFIG],
  },
  {
    provide: READINESS_URLS,
    useFactory: (config: SchedulerConfig) =>
      readinessUrlsOf(config.SCHEDULER_READINESS_URLS) ?? new Map<string, string>(),
    inject: [CONFIG],
  },
];
const repositories = [{ provide: SNAPSHOT_REPOSITORY, useClass: MongoSnapshotRepository }];
const adapters = [
  { provide: SYSTEM_PROBE, useClass: HttpSystemProbe },
  SegmentStatusFollower,
  InsightGrpc,
];

/** Member-count snapshots, history and summaries, and the system's status. */
@Module({
  imports: [ChurnModule, DefinitionsModule, JobsModule, SchedulesModule],
  providers: [
    ...configuration,
    ...repositories,
    ...adapters,
    MemberCounts,
    InsightService,
    SystemStatusService,
  ],
  exports: [InsightService, SegmentStatusFollower, InsightGrpc],
})
export class InsightModule {}
