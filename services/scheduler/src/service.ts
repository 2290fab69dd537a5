import { serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { version } from '../package.json';

export const schedulerConfigSchema = serviceConfigSchema(
  { service: 'scheduler', grpcPort: 50054, httpPort: 9454 },
  {},
);

/** Scheduler: refresh schedules, jobs and their history. */
export const schedulerService: ServiceDefinition = {
  name: 'scheduler',
  version,
  configSchema: schedulerConfigSchema,
  topics: [],
  features: [],
};
