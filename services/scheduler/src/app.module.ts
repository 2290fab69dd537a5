import { Module } from '@nestjs/common';
import { DefinitionsModule } from './definitions/definitions.module';
import { InsightModule } from './insight/insight.module';
import { JobsModule } from './jobs/jobs.module';
import { SchedulerServiceGrpc } from './scheduler-service.grpc';
import { SchedulesModule } from './schedules/schedules.module';
import { TicksModule } from './ticks/ticks.module';

/** The scheduler service: its feature modules, composed into SchedulerService. */
@Module({
  imports: [DefinitionsModule, JobsModule, SchedulesModule, InsightModule, TicksModule],
  providers: [SchedulerServiceGrpc],
})
export class AppModule {}
