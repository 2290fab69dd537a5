import { serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { version } from '../package.json';
import { ProfilesModule } from './profiles/profiles.module';

export const ingestionConfigSchema = serviceConfigSchema(
  { service: 'ingestion', grpcPort: 50051, httpPort: 9451 },
  {},
);

/** Ingestion: upstream customer events → profiles; answers ProfileService. */
export const ingestionService: ServiceDefinition = {
  name: 'ingestion',
  version,
  configSchema: ingestionConfigSchema,
  topics: [],
  features: [ProfilesModule],
};
