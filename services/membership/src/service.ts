import {
  jobProgressTopic,
  listMembershipTopic,
  membershipChangesTopic,
  membershipCommandsTopic,
  membershipContactsTopic,
  membershipDeadLetterTopic,
  profileChangesTopic,
  segmentDefinitionsTopic,
  segmentStatusTopic,
} from '@shoal/contracts';
import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { DEFAULT_LIMITS } from '@shoal/rules';
import type { z } from 'zod';
import { version } from '../package.json';
import { PartitionsModule } from './partitions/partitions.module';
import { QueriesModule } from './queries/queries.module';

export const membershipConfigSchema = serviceConfigSchema(
  { service: 'membership', grpcPort: 50053, httpPort: 9453 },
  {
    MEMBERSHIP_CHECKPOINT_INTERVAL_MS: env.int(
      1_000,
      'how often each partition writes the profiles that changed, in one bulk write',
      50,
    ),
    MEMBERSHIP_TIMER_TICK_MS: env.int(
      250,
      'how often each partition looks for due timers (time-driven entries and exits)',
      10,
    ),
    MEMBERSHIP_HISTORY_DAYS: env
      .int(0, 'raw event history kept for backfills, in days; 0 keeps it for ever')
      .refine((days) => days === 0 || days >= DEFAULT_LIMITS.maxHistoryDays, {
        message: `must be 0 (for ever) or at least ${DEFAULT_LIMITS.maxHistoryDays}, the longest window a rule may name`,
      }),
    MEMBERSHIP_MAX_DIRTY_PROFILES: env.int(
      50_000,
      'changed profiles a partition holds in memory before it waits for its checkpoint',
      100,
    ),
    MEMBERSHIP_LIVE_PROFILES: env.int(
      10_000,
      'profiles each partition keeps as live objects (the most recently used); the others are kept packed and unpacked when used',
      1,
    ),
    MEMBERSHIP_STATUS_INTERVAL_MS: env.int(
      60_000,
      'how often each segment’s status is published again when nothing changed',
      1_000,
    ),
  },
);

export type MembershipConfig = z.output<typeof membershipConfigSchema>;

/** Membership: keeps every profile’s segment membership current and publishes entered/exited events. */
export const membershipService: ServiceDefinition = {
  name: 'membership',
  version,
  configSchema: membershipConfigSchema,
  topics: [
    profileChangesTopic,
    listMembershipTopic,
    segmentDefinitionsTopic,
    membershipCommandsTopic,
    membershipChangesTopic,
    membershipContactsTopic,
    segmentStatusTopic,
    jobProgressTopic,
    membershipDeadLetterTopic,
  ],
  features: [PartitionsModule, QueriesModule],
};
