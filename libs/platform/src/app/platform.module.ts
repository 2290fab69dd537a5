import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Kafka } from 'kafkajs';
import { Db, MongoClient } from 'mongodb';
import { TokenVerifier } from '../auth/token-verifier';
import { GrpcServer } from '../grpc/grpc-server';
import { PageTokens } from '../grpc/page-token';
import { ServiceClients } from '../grpc/service-clients';
import { Readiness } from '../health/readiness';
import { EventPublisher } from '../kafka/event-publisher';
import { createKafka } from '../kafka/kafka-client';
import { TopicNames } from '../kafka/topics';
import { LOGGER } from '../logging/logger';
import { Metrics } from '../metrics/metrics';
import { createMongoClient } from '../mongo/mongo';
import { CLOCK } from '../time/clock';
import { PlatformLifecycle } from './platform-lifecycle';
import { CONFIG, PLATFORM, type PlatformContext } from './platform-context';

/**
 * Provides the platform to every feature module of a service (global): configuration,
 * logger, clock, metrics, readiness, page tokens, the Kafka client and publisher, the service's own
 * database, and the gRPC server its @GrpcService providers are mounted on.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(context: PlatformContext): DynamicModule {
    const { config, logger } = context;
    const values = [
      { provide: PLATFORM, useValue: context },
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: CLOCK, useValue: context.clock },
      { provide: Metrics, useValue: context.metrics },
      { provide: Readiness, useValue: context.readiness },
      { provide: TokenVerifier, useValue: context.verifier },
      { provide: PageTokens, useValue: context.pageTokens },
    ];
    const factories = [
      { provide: TopicNames, useFactory: () => new TopicNames(config.KAFKA_TOPIC_PREFIX) },
      { provide: Kafka, useFactory: () => createKafka(config, logger) },
      {
        provide: EventPublisher,
        useFactory: (kafka: Kafka, names: TopicNames) =>
          new EventPublisher(kafka, names, config.KAFKA_MAX_MESSAGE_BYTES, logger, context.metrics),
        inject: [Kafka, TopicNames],
      },
      {
        provide: MongoClient,
        useFactory: () => createMongoClient(config.MONGO_URL, context.metrics),
      },
      {
        provide: Db,
        useFactory: (client: MongoClient) => client.db(config.MONGO_DATABASE),
        inject: [MongoClient],
      },
      {
        provide: GrpcServer,
        useFactory: () =>
          new GrpcServer(
            {
              host: config.GRPC_HOST,
              port: config.GRPC_PORT,
              maxMessageBytes: config.GRPC_MAX_MESSAGE_BYTES,
              storeReadTimeLimitMs: config.MONGO_READ_TIME_LIMIT_MS,
              ...(config.GRPC_TLS_CERT_FILE && config.GRPC_TLS_KEY_FILE
                ? {
                    tls: {
                      certFile: config.GRPC_TLS_CERT_FILE,
                      keyFile: config.GRPC_TLS_KEY_FILE,
                      clientCaFile: config.GRPC_TLS_CLIENT_CA_FILE,
                    },
                  }
                : {}),
            },
            context.verifier,
            logger,
            context.metrics,
          ),
      },
    ];
    return {
      module: PlatformModule,
      imports: [DiscoveryModule],
      providers: [...values, ...factories, ServiceClients, PlatformLifecycle],
      exports: [...[...values, ...factories].map((p) => p.provide), ServiceClients],
    };
  }
}
