import {
  exporterDeadLetterTopic,
  jobProgressTopic,
  membershipChangesTopic,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { z } from 'zod';
import { version } from '../package.json';
import { AppModule } from './app.module';
import { allowListOf } from './destinations/webhook-address';

const ALLOWED_CIDRS =
  'CIDR blocks webhooks may reach although private, loopback or link-local (e.g. 10.20.0.0/16); unset, public addresses only';

function cidrsValid(cidrs: readonly string[]): boolean {
  try {
    allowListOf(cidrs);
    return true;
  } catch {
    return false;
  }
}

export const exporterConfigSchema = serviceConfigSchema(
  { service: 'exporter', grpcPort: 50055, httpPort: 9455 },
  {
    EXPORTER_MEMBERSHIP_ADDRESS: z
      .string()
      .min(1)
      .default('127.0.0.1:50053')
      .describe('host:port of the membership service (ListMembers)'),
    EXPORTER_INGESTION_ADDRESS: z
      .string()
      .min(1)
      .default('127.0.0.1:50051')
      .describe('host:port of the ingestion service (profile reads)'),
    EXPORTER_SEGMENTS_ADDRESS: z
      .string()
      .min(1)
      .default('127.0.0.1:50052')
      .describe('host:port of the segments service (SetDestinationUsage)'),
    EXPORTER_DOWNLOAD_HOST: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('address the CSV download server (GET /segments/{id}/members.csv) binds'),
    EXPORTER_DOWNLOAD_PORT: env.port(8455, 'port of the CSV download server; 0 picks a free one'),
    EXPORTER_CSV_PAGE_SIZE: env.int(1000, 'members read (and held) per page of a CSV export', 1),
    EXPORTER_CSV_MAX_COLUMNS: env.int(100, 'most columns one CSV export may ask for', 1),
    EXPORTER_PROFILE_READS_IN_FLIGHT: env.int(
      16,
      'profile reads from ingestion in flight at once per export page',
      1,
    ),
    EXPORTER_SYNC_INTERVAL_MS: env.int(1000, 'how often destination queues are looked at', 10),
    EXPORTER_BATCH_MAX_WAIT_MS: env.int(
      2000,
      'longest a partial incremental batch waits for more records before it is sent',
      0,
    ),
    EXPORTER_RETRY_BASE_MS: env.int(
      1000,
      'first retry wait of a failed delivery; doubles per attempt, with full jitter',
      1,
    ),
    EXPORTER_RETRY_MAX_MS: env.int(300_000, 'longest retry wait of a failed delivery', 1),
    EXPORTER_RETRY_AFTER_MAX_MS: env.int(
      900_000,
      'longest Retry-After of a receiver that is honoured (longer ones are cut to this)',
      0,
    ),
    EXPORTER_FILE_ROOT: env.optionalString(
      'directory file destinations must write inside; unset, file destinations are refused',
    ),
    EXPORTER_WEBHOOK_ALLOWED_CIDRS: env
      .optionalList(ALLOWED_CIDRS)
      .refine((cidrs) => cidrsValid(cidrs ?? []), {
        message: 'comma-separated CIDR blocks, e.g. 10.20.0.0/16,fd00::/8',
      })
      .describe(ALLOWED_CIDRS),
    EXPORTER_DESTINATIONS_MAX: env.int(10_000, 'most destinations one exporter syncs', 1),
    EXPORTER_PAUSED_BACKLOG_MAX: env.int(
      100_000,
      'most records queued per link while its auto-sync is off; beyond, a full sync catches up when it is on again',
      1,
    ),
  },
);

export type ExporterConfig = z.output<typeof exporterConfigSchema>;

/** Exporter: CSV downloads and destination syncs of segment members; answers ExportService. */
export const exporterService: ServiceDefinition = {
  name: 'exporter',
  version,
  configSchema: exporterConfigSchema,
  topics: [
    segmentDefinitionsTopic,
    membershipChangesTopic,
    jobProgressTopic,
    exporterDeadLetterTopic,
  ],
  features: [AppModule],
};
