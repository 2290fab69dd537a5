import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import type { z } from 'zod';
import { version } from '../package.json';
import { ProfilesModule } from './profiles/profiles.module';

export const ingestionConfigSchema = serviceConfigSchema(
  { service: 'ingestion', grpcPort: 50051, httpPort: 9451 },
  {
    PROFILE_READER_GROUPS: env.optionalList(
      'comma-separated groups whose users may read single profiles (GetProfile, LookupProfile); unset, only services may',
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
  features: [ProfilesModule],
};
