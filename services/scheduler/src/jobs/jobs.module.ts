import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { DefinitionsModule } from '../definitions/definitions.module';
import type { SchedulerConfig } from '../service';
import { JobProgressFollower } from './job-progress.follower';
import { JobsGrpc } from './jobs.grpc';
import { MongoJobRepository } from './jobs.mongo-repository';
import { JOB_REPOSITORY } from './jobs.repository.port';
import { JobsService } from './jobs.service';
import { KafkaMembership } from './membership.kafka';
import { JOB_SETTINGS, type JobSettings, MEMBERSHIP } from './membership.port';

const configuration = [
  {
    provide: JOB_SETTINGS,
    useFactory: (config: SchedulerConfig): JobSettings => ({
      timeoutMs: config.SCHEDULER_JOB_TIMEOUT_MS,
      lagBound: config.SCHEDULER_LAG_BOUND,
      lagMaxWaitMs: config.SCHEDULER_LAG_MAX_WAIT_MS,
    }),
    inject: [CONFIG],
  },
];
const repositories = [{ provide: JOB_REPOSITORY, useClass: MongoJobRepository }];
const adapters = [
  { provide: MEMBERSHIP, useClass: KafkaMembership },
  JobProgressFollower,
  JobsGrpc,
];

/** Refresh jobs: requested, dispatched to membership, followed to their end, cancelled. */
@Module({
  imports: [DefinitionsModule],
  providers: [...configuration, ...repositories, ...adapters, JobsService],
  exports: [JobsService, JobProgressFollower, JobsGrpc],
})
export class JobsModule {}
