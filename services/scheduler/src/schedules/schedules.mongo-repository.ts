import { Injectable } from '@nestjs/common';
import { MongoRepository } from '@shoal/platform';
import { Db } from 'mongodb';
import type { CronSchedule } from './schedule';
import type { ScheduleRepositoryPort } from './schedules.repository.port';

interface ScheduleDocument {
  _id: 'default';
  cron: string;
  timeZone: string;
  changedBy: string;
  changedAtMs: number;
}

@Injectable()
export class MongoScheduleRepository
  extends MongoRepository<ScheduleDocument>
  implements ScheduleRepositoryPort
{
  constructor(db: Db) {
    super(db, 'schedules');
  }

  async defaultSchedule(): Promise<CronSchedule | undefined> {
    const doc = await this.collection.findOne({ _id: 'default' });
    return doc ? { cron: doc.cron, timeZone: doc.timeZone } : undefined;
  }

  async setDefaultSchedule(schedule: CronSchedule, by: string, atMs: number): Promise<void> {
    await this.collection.updateOne(
      { _id: 'default' },
      { $set: { ...schedule, changedBy: by, changedAtMs: atMs } },
      { upsert: true },
    );
  }
}
