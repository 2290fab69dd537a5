import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { z } from 'zod';
import { version } from '../package.json';
import { ProfilesModule } from './profiles/profiles.module';
import { UpstreamModule } from './upstream/upstream.module';
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
  },
);

export type IngestionConfig = z.output<typeof ingestionConfigSchema>;

/** Ingestion: upstream customer events → profiles; answers ProfileService. */
export const ingestionService: ServiceDefinition = {
  name: 'ingestion',
  version,
  configSchema: ingestionConfigSchema,
  topics: [],
  features: [ProfilesModule, UpstreamModule],
};
