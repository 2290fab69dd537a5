export * from './infrastructure';
export * from './test-scope';
// process control for tests that kill and restart a dedicated broker or store
export { type ManagedProcess, freePort, startKafka, startMongo } from '@shoal/local-infra';
export {
  SHOAL_SERVICES,
  type ShoalServiceName,
  type LaunchedProcess,
  startServiceProcess,
} from '@shoal/local-infra';
export * from './markdown';
export * from './readme-config';
export * from './fuzz/grpc-fuzz';
export * from './fuzz/http-fuzz';
export type { KnownValues } from './fuzz/request-arbitrary';
export * from './test-service';
export * from './refusal';
export * from './fresh-repositories';
export * from './segment-definitions';
export * from './shoal-stack';
