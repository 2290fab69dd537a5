import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { DefinitionsModule } from '../definitions/definitions.module';
import { JobsModule } from '../jobs/jobs.module';
import type { SchedulerConfig } from '../service';
import { SEGMENT_DEFINITIONS } from './segment-definitions.port';
import { SegmentsGrpcClient } from './segments.grpc-client';
import { SchedulesGrpc } from './schedules.grpc';
import { MongoScheduleRepository } from './schedules.mongo-repository';
import { SCHEDULE_REPOSITORY } from './schedules.repository.port';
import { SCHEDULE_SETTINGS, type ScheduleSettings, SchedulesService } from './schedules.service';

const configuration = [
  {
    provide: SCHEDULE_SETTINGS,
    useFactory: (config: SchedulerConfig): ScheduleSettings => ({
      defaultSchedule: {
        cron: config.SCHEDULER_DEFAULT_CRON,
        timeZone: config.SCHEDULER_DEFAULT_TIME_ZONE ?? '',
      },
      adminGroups: config.SCHEDULER_ADMIN_GROUPS ?? [],
    }),
    inject: [CONFIG],
  },
];
const repositories = [{ provide: SCHEDULE_REPOSITORY, useClass: MongoScheduleRepository }];
const adapters = [{ provide: SEGMENT_DEFINITIONS, useClass: SegmentsGrpcClient }, SchedulesGrpc];

/** Schedules: the global default, each segment's own, and firing their ticks. */
@Module({
  imports: [DefinitionsModule, JobsModule],
  providers: [...configuration, ...repositories, ...adapters, SchedulesService],
  exports: [SchedulesService, SchedulesGrpc],
})
export class SchedulesModule {}
