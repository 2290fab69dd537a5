import { readFileSync } from 'node:fs';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaConnectionConfig {
  readonly KAFKA_BROKERS: readonly string[];
  readonly KAFKA_CLIENT_ID: string;
  readonly KAFKA_SSL: boolean;
  readonly KAFKA_SSL_CA_FILE?: string | undefined;
  readonly KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  readonly KAFKA_SASL_USERNAME?: string | undefined;
  readonly KAFKA_SASL_PASSWORD?: string | undefined;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client from configuration; TLS and SASL are settings, its logs go to pino. */
export function createKafka(config: KafkaConnectionConfig, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  const options: KafkaConfig = {
    clientId: config.KAFKA_CLIENT_ID,
    brokers: [...config.KAFKA_BROKERS],
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        kafkaLogger[LEVELS[level] ?? 'info'](extra, message);
      },
  };
  if (config.KAFKA_SSL) {
    options.ssl = config.KAFKA_SSL_CA_FILE
      ? { ca: [readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8')] }
      : true;
  }
  if (config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD) {
    options.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME,
      password: config.KAFKA_SASL_PASSWORD,
    } as SASLOptions;
  }
  return new Kafka(options);
}
