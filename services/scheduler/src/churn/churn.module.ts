import { Module } from '@nestjs/common';
import { ChurnConsumer } from './churn.consumer';
import { MongoChurnRepository } from './churn.mongo-repository';
import { CHURN_REPOSITORY } from './churn.repository.port';
import { ChurnService } from './churn.service';

/** Per-day entered and exited counts per segment, from membership's transitions. */
@Module({
  providers: [
    { provide: CHURN_REPOSITORY, useClass: MongoChurnRepository },
    ChurnConsumer,
    ChurnService,
  ],
  exports: [ChurnService],
})
export class ChurnModule {}
