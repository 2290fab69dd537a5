import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { DefinitionsModule } from '../definitions/definitions.module';
import { InsightModule } from '../insight/insight.module';
import { JobsModule } from '../jobs/jobs.module';
import { SchedulesModule } from '../schedules/schedules.module';
import type { SchedulerConfig } from '../service';
import { TICK_SETTINGS, type TickSettings, Ticker } from './ticker';

const configuration = [
  {
    provide: TICK_SETTINGS,
    useFactory: (config: SchedulerConfig): TickSettings => ({
      tickMs: config.SCHEDULER_TICK_MS,
      leaseMs: config.SCHEDULER_LEASE_MS,
    }),
    inject: [CONFIG],
  },
];

/** The scheduler's clock: start-up in order, then the lease holder's rounds. */
@Module({
  imports: [DefinitionsModule, JobsModule, SchedulesModule, InsightModule],
  providers: [...configuration, Ticker],
})
export class TicksModule {}
