import { serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { version } from '../package.json';

export const segmentsConfigSchema = serviceConfigSchema(
  { service: 'segments', grpcPort: 50052, httpPort: 9452 },
  {},
);

/** Segments: segment definitions, versions and static lists; answers SegmentService. */
export const segmentsService: ServiceDefinition = {
  name: 'segments',
  version,
  configSchema: segmentsConfigSchema,
  topics: [],
  features: [],
};
