import { serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { version } from '../package.json';

export const membershipConfigSchema = serviceConfigSchema(
  { service: 'membership', grpcPort: 50053, httpPort: 9453 },
  {},
);

/** Membership: keeps every profile’s segment membership current and publishes entered/exited events. */
export const membershipService: ServiceDefinition = {
  name: 'membership',
  version,
  configSchema: membershipConfigSchema,
  topics: [],
  features: [],
};
