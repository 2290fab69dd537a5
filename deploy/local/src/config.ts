import { LocalInfraError, LocalInfraErrorCode } from './errors';

export const LOOPBACK = '127.0.0.1';

export interface InfraPorts {
  kafka: number;
  kafkaController: number;
  mongo: number;
}

export interface InfraEndpoints {
  kafkaBrokers: string[];
  mongoUrl: string;
}

export const DEFAULT_PORTS: InfraPorts = { kafka: 19092, kafkaController: 19093, mongo: 27027 };

const PORT_ENV: Record<keyof InfraPorts, string> = {
  kafka: 'SHOAL_KAFKA_PORT',
  kafkaController: 'SHOAL_KAFKA_CONTROLLER_PORT',
  mongo: 'SHOAL_MONGO_PORT',
};

/** Explicit options win over the environment, which wins over the defaults. */
export function resolvePorts(
  explicit: Partial<InfraPorts>,
  env: NodeJS.ProcessEnv = process.env,
): InfraPorts {
  const pick = (key: keyof InfraPorts): number => {
    const fromEnv = env[PORT_ENV[key]];
    if (explicit[key] !== undefined) return checkPort(explicit[key], `${key} port`);
    if (fromEnv !== undefined && fromEnv !== '') return checkPort(fromEnv, PORT_ENV[key]);
    return DEFAULT_PORTS[key];
  };
  const ports = {
    kafka: pick('kafka'),
    kafkaController: pick('kafkaController'),
    mongo: pick('mongo'),
  };
  if (new Set(Object.values(ports)).size !== 3) {
    throw new LocalInfraError(
      LocalInfraErrorCode.InvalidConfig,
      `Kafka, Kafka controller and store ports must differ, got ${JSON.stringify(ports)}`,
    );
  }
  return ports;
}

function checkPort(value: number | string, source: string): number {
  const port = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LocalInfraError(
      LocalInfraErrorCode.InvalidConfig,
      `${source} must be a TCP port between 1 and 65535, got '${value}'`,
    );
  }
  return port;
}

export function kafkaEndpoint(port: number): string {
  return `${LOOPBACK}:${port}`;
}

export function mongoUrl(port: number): string {
  return `mongodb://${LOOPBACK}:${port}/?directConnection=true`;
}

export function endpointsFor(ports: InfraPorts): InfraEndpoints {
  return { kafkaBrokers: [kafkaEndpoint(ports.kafka)], mongoUrl: mongoUrl(ports.mongo) };
}
