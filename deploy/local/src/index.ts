export type { InfraEndpoints } from './config';
export { DEFAULT_PORTS } from './config';
export { LocalInfraError, LocalInfraErrorCode } from './errors';
export { startKafka } from './kafka';
export { INFRA_COMPONENTS, type InfraComponent } from './layout';
export { LocalInfra } from './local-infra';
export type { ComponentStatus, InterruptibleOptions, LocalInfraOptions } from './local-infra';
export { startMongo } from './mongo';
export { freePort } from './ports';
export type { ManagedProcess } from './processes';
export { waitForKafka, waitForMongo } from './readiness';
export type { WaitOptions } from './readiness';
export {
  LocalServices,
  SERVICE_PORTS,
  SHOAL_SERVICES,
  CONSOLE_SERVICE,
  CONSOLE_WEB_PORT,
  LOCAL_SERVICES,
  type StartableServiceName,
  type ServiceProcessOptions,
  type ServiceStatus,
  type ShoalServiceName,
  serviceEntry,
  startServiceProcess,
  waitForReadyz,
} from './shoal-services';
export { type LaunchedProcess, tailOf } from './processes';
