import {
  jobProgressTopic,
  membershipCommandsTopic,
  schedulerDeadLetterTopic,
  segmentDefinitionsTopic,
  segmentStatusTopic,
} from '@shoal/contracts';
import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { z } from 'zod';
import { version } from '../package.json';
import { AppModule } from './app.module';
import { readinessUrlsOf } from './insight/readiness-urls';
import { DEFAULT_SCHEDULE, scheduleViolations } from './schedules/schedule';

const cron = (fallback: string, description: string) =>
  z
    .string()
    .default(fallback)
    .refine((value) => scheduleViolations({ cron: value, timeZone: '' }).length === 0, {
      message: 'must be a five-field cron expression, e.g. "0 */4 * * *"',
    })
    .describe(description);

const DEFAULT_READINESS_URLS =
  'ingestion=http://127.0.0.1:9451/readyz,segments=http://127.0.0.1:9452/readyz,' +
  'membership=http://127.0.0.1:9453/readyz,scheduler=http://127.0.0.1:9454/readyz,' +
  'exporter=http://127.0.0.1:9455/readyz';

const readinessUrls = z
  .string()
  .default(DEFAULT_READINESS_URLS)
  .refine((value) => readinessUrlsOf(value) !== undefined, {
    message: 'must be comma-separated name=URL pairs, e.g. ingestion=http://127.0.0.1:9451/readyz',
  })
  .describe('the services GetSystemStatus asks for readiness, as comma-separated name=URL');

export const schedulerConfigSchema = serviceConfigSchema(
  { service: 'scheduler', grpcPort: 50054, httpPort: 9454 },
  {
    SCHEDULER_DEFAULT_CRON: cron(
      DEFAULT_SCHEDULE.cron,
      'default schedule of SCHEDULED segments without a cron of their own, until SetSchedule changes it',
    ),
    SCHEDULER_DEFAULT_TIME_ZONE: env
      .optionalString('IANA time zone the default schedule is read in; unset is UTC')
      .refine(
        (zone) =>
          zone === undefined ||
          scheduleViolations({ cron: '0 * * * *', timeZone: zone }).length === 0,
        {
          message: 'must be an IANA time zone, e.g. Europe/Paris',
        },
      ),
    SCHEDULER_TICK_MS: env.int(
      1_000,
      'how often the lease holder fires due ticks and dispatches jobs that waited',
      50,
    ),
    SCHEDULER_LEASE_MS: env.int(
      15_000,
      'how long the scheduler lease lasts unrenewed (another instance takes over then)',
      1_000,
    ),
    SCHEDULER_JOB_TIMEOUT_MS: env.int(
      300_000,
      'a running job whose worker reports nothing for this long fails',
      1_000,
    ),
    SCHEDULER_LAG_BOUND: env.int(
      0,
      'before a refresh runs, wait until ingestion and membership are at most this many records behind; 0 does not wait',
    ),
    SCHEDULER_LAG_MAX_WAIT_MS: env.int(
      300_000,
      'the longest such wait; then the refresh runs with a warning',
    ),
    SCHEDULER_SNAPSHOT_CRON: cron(
      '0 0 * * *',
      'when the daily member-count snapshot is taken (UTC)',
    ),
    SCHEDULER_ADMIN_GROUPS: env.optionalList(
      'groups whose users may change the default schedule; unset, only services may',
    ),
    SCHEDULER_READINESS_URLS: readinessUrls,
    SCHEDULER_SEGMENTS_ADDRESS: z
      .string()
      .min(1)
      .default('127.0.0.1:50052')
      .describe(
        "host:port of the segments service (SetSchedule of a segment: UpdateSegment with the caller's token)",
      ),
  },
).superRefine((config, ctx) => {
  if (config.SCHEDULER_LEASE_MS < 3 * config.SCHEDULER_TICK_MS)
    ctx.addIssue({
      code: 'custom',
      path: ['SCHEDULER_LEASE_MS'],
      message: 'must be at least 3 × SCHEDULER_TICK_MS, so a holder renews it in time',
    });
});

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;

/** Scheduler: refresh schedules, jobs and their history, insight. */
export const schedulerService: ServiceDefinition = {
  name: 'scheduler',
  version,
  configSchema: schedulerConfigSchema,
  topics: [
    segmentDefinitionsTopic,
    membershipCommandsTopic,
    jobProgressTopic,
    segmentStatusTopic,
    schedulerDeadLetterTopic,
  ],
  features: [AppModule],
};
