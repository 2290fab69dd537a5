import type { DescService } from '@bufbuild/protobuf';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { TopicSpec } from '@shoal/contracts';
import { type Admin, Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { GrpcServer } from '../grpc/grpc-server';
import type { GrpcServiceHandlers } from '../grpc/handlers';
import { BatchConsumer, type TopicHandler } from '../kafka/batch-consumer';
import { EventPublisher } from '../kafka/event-publisher';
import { TopicNames, ensureTopics } from '../kafka/topics';
import { credentialRefusal, pingMongo } from '../mongo/mongo';
import { MongoRepository } from '../mongo/repository';
import { retry } from '../time/retry';
import { GRPC_SERVICE, TOPIC_CONSUMER, type TopicConsumerOptions } from './decorators';
import { PLATFORM, type PlatformContext } from './platform-context';

const READINESS_INTERVAL_MS = 5_000;
const STARTUP_TIMEOUT_MS = 120_000;

/**
 * Starts and stops a service's infrastructure in a fixed order. Start: store reachable and
 * indexes ensured, topics created, producer connected, consumers running, gRPC serving.
 * Stop: gRPC stops taking calls and drains while consumers finish their batch (or abandon it
 * uncommitted after a grace) and commit, then the producer and the store connection close.
 */
@Injectable()
export class PlatformLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly consumers: BatchConsumer<unknown>[] = [];
  private healthAdmin?: Admin;
  private readinessTimer?: NodeJS.Timeout;
  grpcPort = 0;

  constructor(
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
    private readonly publisher: EventPublisher,
    private readonly mongo: MongoClient,
    private readonly grpc: GrpcServer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      // NestJS closes no application whose start failed (or was stopped): close what did open
      await this.beforeApplicationShutdown().catch(() => undefined);
      await this.onApplicationShutdown().catch(() => undefined);
      throw error;
    }
  }

  private async start(): Promise<void> {
    const { readiness, config, logger } = this.platform;
    const seen = new Set<unknown>();
    const instances = this.discovery
      .getProviders()
      .filter(
        (wrapper) =>
          wrapper.instance && wrapper.metatype && !wrapper.isAlias && !seen.has(wrapper.instance),
      )
      .map((wrapper) => {
        seen.add(wrapper.instance);
        return { instance: wrapper.instance as object, metatype: wrapper.metatype as object };
      });

    readiness.register({ name: 'mongodb', check: () => pingMongo(this.mongo) });
    this.healthAdmin = this.kafka.admin({ retry: { retries: 0 } });
    readiness.register({ name: 'kafka', check: () => this.kafkaHealth() });

    await this.untilReachable(
      'mongodb',
      async () => {
        await this.mongo.connect();
        for (const { instance } of instances) {
          if (instance instanceof MongoRepository) await instance.ensureIndexes();
        }
      },
      credentialRefusal,
    );

    const consumed = instances.flatMap(({ instance, metatype }) => {
      const options = this.reflector.get<TopicConsumerOptions | undefined>(
        TOPIC_CONSUMER,
        metatype as never,
      );
      return options ? [{ options, handler: instance as TopicHandler<unknown> }] : [];
    });
    const topics: TopicSpec[] = [...this.platform.topics, ...consumed.map((c) => c.options.topic)];
    await this.untilReachable('kafka', async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const created = await ensureTopics(admin, topics, this.names, {
          partitions: config.KAFKA_PARTITIONS,
          replicationFactor: config.KAFKA_REPLICATION_FACTOR,
          maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
        });
        if (created.length > 0) logger.info({ topics: created }, 'created topics');
      } finally {
        await admin.disconnect();
      }
      await this.publisher.connect();
    });

    for (const { options, handler } of consumed) {
      const consumer = new BatchConsumer({
        kafka: this.kafka,
        names: this.names,
        publisher: this.publisher,
        options: { ...options, handler },
        maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
        stalledAfterMs: config.KAFKA_CONSUMER_STALLED_AFTER_MS,
        commitIntervalMs: config.KAFKA_COMMIT_INTERVAL_MS,
        clock: this.platform.clock,
        logger: logger.child({ consumer: options.groupId }),
        metrics: this.platform.metrics,
      });
      this.consumers.push(consumer);
      readiness.register({
        name: `consumer:${options.groupId}`,
        check: async () => consumer.health(),
      });
      await consumer.start();
    }

    for (const { instance, metatype } of instances) {
      const service = this.reflector.get<DescService | undefined>(GRPC_SERVICE, metatype as never);
      if (service) this.grpc.register(service, instance as GrpcServiceHandlers<DescService>);
    }
    this.grpcPort = await this.grpc.start();

    readiness.markStarted();
    await this.refreshServingStatus();
    this.readinessTimer = setInterval(
      () => void this.refreshServingStatus(),
      READINESS_INTERVAL_MS,
    );
    this.readinessTimer.unref();
    logger.info({ grpcPort: this.grpcPort }, `${this.platform.service} started`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.readinessTimer);
    this.platform.readiness.markStopping();
    // independent, so in parallel: the slowest of them (gRPC's drain) bounds the stop
    await Promise.all([this.grpc.stop(), ...this.consumers.map((c) => c.stop())]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect().catch(() => undefined);
    await this.healthAdmin?.disconnect().catch(() => undefined);
    await this.mongo.close();
    this.platform.logger.info(`${this.platform.service} stopped`);
  }

  private async kafkaHealth(): Promise<string> {
    const admin = this.healthAdmin as Admin;
    await admin.connect();
    const cluster = await admin.describeCluster();
    return `${cluster.brokers.length} broker(s), controller ${cluster.controller ?? 'unknown'}`;
  }

  private async refreshServingStatus(): Promise<void> {
    const health = await this.platform.readiness.evaluate();
    this.grpc.setServing(health.ready);
  }

  /**
   * Retries a start-up step while its dependency is not there yet; gives up after two minutes,
   * or at once on an error `permanent` turns into the error to stop with.
   */
  private untilReachable(
    dependency: string,
    step: () => Promise<void>,
    permanent: (error: unknown) => Error | undefined = () => undefined,
  ): Promise<void> {
    const { startSignal } = this.platform;
    return retry(step, {
      timeoutMs: STARTUP_TIMEOUT_MS,
      delayMs: 250,
      maxDelayMs: 5_000,
      ...(startSignal ? { signal: startSignal } : {}),
      permanent,
      onRetry: ({ error, attempt }) =>
        this.platform.logger.warn(
          { err: error, dependency, attempt },
          'dependency not reachable yet',
        ),
    });
  }
}
