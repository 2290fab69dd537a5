import type { CronSchedule } from './schedule';

export const SCHEDULE_REPOSITORY = Symbol('ScheduleRepository');

/** The global default schedule, when someone changed it (one document). */
export interface ScheduleRepositoryPort {
  defaultSchedule(): Promise<CronSchedule | undefined>;
  setDefaultSchedule(schedule: CronSchedule, by: string, atMs: number): Promise<void>;
}
