import { serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { version } from '../package.json';

export const exporterConfigSchema = serviceConfigSchema(
  { service: 'exporter', grpcPort: 50055, httpPort: 9455 },
  {},
);

/** Exporter: CSV downloads and destination syncs of segment members. */
export const exporterService: ServiceDefinition = {
  name: 'exporter',
  version,
  configSchema: exporterConfigSchema,
  topics: [],
  features: [],
};
