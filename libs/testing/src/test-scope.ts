import { randomBytes } from 'node:crypto';
import type { DescService } from '@bufbuild/protobuf';
import type { TopicSpec } from '@shoal/contracts';
import {
  devKeyEnv,
  type Env,
  type GrpcClient,
  type RunningService,
  type ServiceDefinition,
  TopicNames,
  createGrpcClient,
  loadSigningKey,
  retry,
  signToken,
  startService,
} from '@shoal/platform';
import { Kafka, type KafkaMessage, type Message, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { testInfrastructure } from './infrastructure';

/** Collects a service's log lines so a test can assert on them. */
export class LogCollector {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
}

export interface TokenRequest {
  readonly subject: string;
  readonly groups?: readonly string[];
  /** Makes it a service token: signed with the service key, issued by the service issuer. */
  readonly service?: string;
  readonly ttlSeconds?: number;
  /** When it was issued; now by default. */
  readonly issuedAt?: Date;
  /** Its issuer, when not the one Shoal trusts for its kind ("shoal", "shoal-service"). */
  readonly issuer?: string;
}

/**
 * One test's slice of the shared infrastructure: its own topic prefix and database names, so
 * tests run in parallel without seeing each other's data. Tracks what it starts and stops it.
 */
export class TestScope {
  readonly id = randomBytes(4).toString('hex');
  readonly topicPrefix = `t${this.id}.`;
  private readonly infra = testInfrastructure();
  private readonly running: RunningService[] = [];
  private readonly closers: (() => Promise<void> | void)[] = [];
  private kafkaClient?: Kafka;
  /** Service logs of this scope; printed only with SHOAL_TEST_LOGS=1, so test output stays readable. */
  readonly logs = new LogCollector();

  /** Environment for a service in this scope: real endpoints, ephemeral ports, test keys. */
  env(service: string, overrides: Env = {}): Env {
    return {
      SHOAL_ENV: 'test',
      LOG_LEVEL: 'warn',
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      KAFKA_BROKERS: this.infra.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      KAFKA_PARTITIONS: '2',
      MONGO_URL: this.infra.mongoUrl,
      MONGO_DATABASE: `t${this.id}_${service}`,
      ...devKeyEnv(this.infra.keys),
      ...overrides,
    };
  }

  async start(
    definition: ServiceDefinition,
    overrides: Env = {},
    options: { logs?: LogCollector } = {},
  ): Promise<RunningService> {
    const running = await startService(definition, {
      env: this.env(definition.name, overrides),
      logDestination: options.logs ?? (process.env.SHOAL_TEST_LOGS ? process.stdout : this.logs),
    });
    this.running.push(running);
    return running;
  }

  /**
   * A token signed with the run's development keys: a user token as the identity provider would
   * issue it, or (with `service`) a service token as a Shoal service mints it.
   */
  async token(request: TokenRequest): Promise<string> {
    const { keys } = this.infra;
    const key = await loadSigningKey(
      request.service ? keys.serviceSigningKeyFile : keys.userSigningKeyFile,
    );
    return signToken(key, {
      subject: request.subject,
      issuer: request.issuer ?? (request.service ? 'shoal-service' : 'shoal'),
      audience: 'shoal',
      ttlSeconds: request.ttlSeconds ?? 600,
      now: request.issuedAt ?? new Date(),
      ...(request.groups ? { groups: request.groups } : {}),
      ...(request.service ? { service: request.service } : {}),
    });
  }

  client<S extends DescService>(
    service: S,
    running: RunningService,
    token?: string,
  ): GrpcClient<S> {
    const client = createGrpcClient(service, {
      address: `127.0.0.1:${running.grpcPort}`,
      deadlineMs: 10_000,
      ...(token ? { token: () => token } : {}),
    });
    this.closers.push(() => client.close());
    return client;
  }

  topicName(spec: TopicSpec): string {
    return new TopicNames(this.topicPrefix).of(spec);
  }

  kafka(): Kafka {
    this.kafkaClient ??= new Kafka({
      clientId: `test-${this.id}`,
      brokers: this.infra.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    return this.kafkaClient;
  }

  /** Produces raw records, as an upstream system would. */
  async produce(spec: TopicSpec, messages: Message[]): Promise<void> {
    const producer = this.kafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: this.topicName(spec), acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
  }

  /** Reads a topic from the beginning until `count` records arrived (or fails after the timeout). */
  async readTopic(spec: TopicSpec, count: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
    const consumer = this.kafka().consumer({
      groupId: `reader-${this.id}-${randomBytes(3).toString('hex')}`,
    });
    const seen: KafkaMessage[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.topicName(spec), fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`read ${seen.length} of ${count} records from ${this.topicName(spec)}`),
            ),
          timeoutMs,
        );
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.push(message);
            if (seen.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  /** Every record on a topic up to its current end (high watermark of each partition). */
  async readTopicToEnd(spec: TopicSpec, timeoutMs = 30_000): Promise<KafkaMessage[]> {
    const topic = this.topicName(spec);
    const admin = this.kafka().admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    return total === 0 ? [] : this.readTopic(spec, total, timeoutMs);
  }

  /** A direct connection to the store, for assertions on what a service wrote. */
  async mongo(): Promise<MongoClient> {
    const client = await new MongoClient(this.infra.mongoUrl).connect();
    this.closers.push(() => client.close());
    return client;
  }

  /** Stops what the scope started, then deletes its topics and drops its databases. */
  async close(): Promise<void> {
    for (const running of this.running.splice(0).reverse()) await running.close();
    for (const close of this.closers.splice(0).reverse()) await close();
    await this.removeTopics();
    await this.dropDatabases();
  }

  private async removeTopics(): Promise<void> {
    const admin = this.kafka().admin();
    await admin.connect();
    try {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(this.topicPrefix));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  }

  private async dropDatabases(): Promise<void> {
    const client = await new MongoClient(this.infra.mongoUrl).connect();
    try {
      const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
      for (const { name } of databases.filter((d) => d.name.startsWith(`t${this.id}_`))) {
        await client.db(name).dropDatabase();
      }
    } finally {
      await client.close();
    }
  }
}

/**
 * Polls until `probe` stops throwing and answers its value; after `timeoutMs`, throws its last
 * error (a TypeError that is not a network failure at once: that is a bug in the probe).
 */
export function eventually<T>(
  probe: () => Promise<T> | T,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  return retry(() => probe(), { timeoutMs, delayMs: intervalMs });
}

/** GET on a service's operations endpoint. */
export async function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}
