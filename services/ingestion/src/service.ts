import { profileChangesTopic } from '@shoal/contracts';
import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { z } from 'zod';
import { version } from '../package.json';
import { GrpcModule } from './grpc/grpc.module';
import { MAX_CONFIGURABLE_DEPTH } from './upstream/upstream-record-limits';

/** A comma-separated list with a default; names are trimmed, empty ones dropped. */
const names = (fallback: string, description: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .describe(description);

export const ingestionConfigSchema = serviceConfigSchema(
  { service: 'ingestion', grpcPort: 50051, httpPort: 9451 },
  {
    INGEST_MAX_DEPTH: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_CONFIGURABLE_DEPTH)
      .default(32)
      .describe(
        `deepest nesting of objects and arrays in traits, properties and context (at most ${MAX_CONFIGURABLE_DEPTH}, so protobuf clients decode profiles)`,
      ),
    INGEST_MAX_KEYS: env.int(
      1000,
      'most field names in one event’s traits, properties and context together, nested ones included',
      1,
    ),
    INGEST_MAX_KEY_LENGTH: env.int(256, 'longest field name in traits, properties and context', 1),
    INGEST_MAX_STRING_LENGTH: env.int(
      16384,
      'longest string value in traits, properties and context, in characters',
      1,
    ),
    INGEST_MAX_FUTURE_SECONDS: env.int(
      3600,
      'how far after its arrival an event’s timestamp may be (clock skew), in seconds',
    ),
    INGEST_RESERVED_TRAITS: names(
      'userId,anonymousId,profileId',
      'trait names identify calls may not set (they name identifiers, not traits), comma-separated',
    ),
    IDENTITY_TRAITS: names(
      'email',
      'traits that identify a person, comma-separated: profiles sharing a value are merged',
    ),
    INGEST_MAX_IDENTITIES: env.int(
      1000,
      'most identifiers one profile may have; a record that would merge or add past it is dead-lettered (IDENTITY_LIMIT)',
      1,
    ),
    INGEST_DEDUP_WINDOW_SECONDS: env.int(
      86400,
      'a messageId seen again for the same profile within this many seconds is a duplicate: it publishes nothing',
    ),
    INGEST_DEDUP_MAX_PER_PROFILE: env.int(
      64,
      'most recent messageIds remembered per profile (kept with it in the store)',
      1,
    ),
    INGEST_CHECKPOINT_INTERVAL_MS: env.int(
      1000,
      'how often changed profiles are written to the store (coalesced); offsets are committed after',
      10,
    ),
    INGEST_MAX_PENDING_PROFILES: env.int(
      10000,
      'consumption waits while this many profiles have unwritten changes (a record of a batch being loaded counts as one); bounds each checkpoint',
      1,
    ),
    INGEST_WORKING_SET_PROFILES: env.int(
      200000,
      'profiles kept in memory besides those with pending changes (least recently used go first)',
      0,
    ),
    PROFILE_READER_GROUPS: env.optionalList(
      'comma-separated groups whose users may read profiles and accounts (GetProfile, LookupProfile, ListProfiles, GetAccount); unset, only services may',
    ),
    PROFILE_WRITER_GROUPS: env.optionalList(
      'comma-separated groups whose users may send events (Ingest) and change tags (SetProfileTags, RemoveProfileTags); unset, only services may',
    ),
    PROFILE_ADMIN_GROUPS: env.optionalList(
      'comma-separated groups whose users may erase profiles (EraseProfile); unset, only services may',
    ),
  },
);

export type IngestionConfig = z.output<typeof ingestionConfigSchema>;

/** Ingestion: upstream customer events → profiles; answers ProfileService. */
export const ingestionService: ServiceDefinition = {
  name: 'ingestion',
  version,
  configSchema: ingestionConfigSchema,
  topics: [profileChangesTopic],
  features: [GrpcModule],
};
