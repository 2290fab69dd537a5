import {
  ExportService,
  MembershipService,
  ProfileService,
  SchedulerService,
  SegmentService,
} from '@shoal/contracts';
import { SERVICE_PORTS, type ShoalServiceName } from '@shoal/local-infra';
import { type GrpcClient, createGrpcClient } from '@shoal/platform';

/** The typed clients of the five services, made on first use. */
export interface ShoalClients {
  readonly profiles: GrpcClient<typeof ProfileService>;
  readonly segments: GrpcClient<typeof SegmentService>;
  readonly membership: GrpcClient<typeof MembershipService>;
  readonly scheduler: GrpcClient<typeof SchedulerService>;
  readonly exporter: GrpcClient<typeof ExportService>;
  close(): void;
}

/** Where the services and Kafka are, and the token calls carry. */
export interface Connection {
  address(service: ShoalServiceName): string;
  token(): Promise<string>;
  readonly kafkaBrokers: readonly string[];
  readonly topicPrefix: string;
}

/**
 * A service's gRPC address: SHOAL_<SERVICE>_ADDRESS (host:port) when set, else where
 * `./shoal up` starts it.
 */
export function serviceAddress(
  service: ShoalServiceName,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return (
    env[`SHOAL_${service.toUpperCase()}_ADDRESS`] ?? `127.0.0.1:${SERVICE_PORTS[service].grpc}`
  );
}

const DEADLINE_MS = 30_000;

export function connect(connection: Connection): ShoalClients {
  let token: Promise<string> | undefined;
  const made: { close(): void }[] = [];
  const lazy = <T extends { close(): void }>(make: () => T): (() => T) => {
    let client: T | undefined;
    return () => {
      if (!client) {
        client = make();
        made.push(client);
      }
      return client;
    };
  };
  const options = (service: ShoalServiceName) => ({
    address: connection.address(service),
    token: () => (token ??= connection.token()),
    deadlineMs: DEADLINE_MS,
  });
  const profiles = lazy(() => createGrpcClient(ProfileService, options('ingestion')));
  const segments = lazy(() => createGrpcClient(SegmentService, options('segments')));
  const membership = lazy(() => createGrpcClient(MembershipService, options('membership')));
  const scheduler = lazy(() => createGrpcClient(SchedulerService, options('scheduler')));
  const exporter = lazy(() => createGrpcClient(ExportService, options('exporter')));
  return {
    get profiles() {
      return profiles();
    },
    get segments() {
      return segments();
    },
    get membership() {
      return membership();
    },
    get scheduler() {
      return scheduler();
    },
    get exporter() {
      return exporter();
    },
    close: () => {
      for (const client of made) client.close();
    },
  };
}
