import {
  type DynamicModule,
  type INestApplicationContext,
  Module,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TopicSpec } from '@shoal/contracts';
import type { z } from 'zod';
import { createServiceTokenSource } from '../auth/token-signer';
import { createTokenVerifier } from '../auth/token-verifier';
import { ConfigError, type Env, loadConfig } from '../config/config';
import { secretValues } from '../config/secrets';
import type { PlatformConfig } from '../config/platform-config';
import { PageTokens, loadPageTokenSecrets } from '../grpc/page-token';
import { OpsServer } from '../health/ops-server';
import { Readiness } from '../health/readiness';
import { type Logger, createLogger } from '../logging/logger';
import { NestPinoLogger } from '../logging/nest-logger';
import { SecretMask } from '../logging/secret-mask';
import { Metrics } from '../metrics/metrics';
import { type Clock, systemClock } from '../time/clock';
import type { PlatformContext } from './platform-context';
import { PlatformLifecycle } from './platform-lifecycle';
import { PlatformModule } from './platform.module';

/** What a service is: its name, configuration schema, topics and feature modules. */
export interface ServiceDefinition<
  S extends z.ZodType<PlatformConfig> = z.ZodType<PlatformConfig>,
> {
  readonly name: string;
  readonly version: string;
  readonly configSchema: S;
  /** Topics it produces to (consumed topics are found from its consumers). */
  readonly topics: readonly TopicSpec[];
  readonly features: readonly (Type<unknown> | DynamicModule)[];
}

export interface StartOptions {
  readonly env: Env;
  /** Where log lines go (tests collect them); stdout by default. */
  readonly logDestination?: { write(line: string): unknown };
  readonly clock?: Clock;
  /**
   * Aborted to stop a start-up under way: waits for dependencies end at once, and the start
   * rejects with the signal's reason after closing what it opened.
   */
  readonly signal?: AbortSignal;
}

export interface RunningService {
  readonly app: INestApplicationContext;
  readonly context: PlatformContext;
  readonly grpcPort: number;
  readonly httpPort: number;
  close(): Promise<void>;
}

/**
 * Starts a service: validates configuration (ConfigError names each bad variable), sets up
 * logging with secret masking, verification keys and the service-token key, opens the
 * operations endpoint (so readiness is observable while dependencies come up), then lets
 * NestJS wire the features and the platform lifecycle start the infrastructure.
 */
export async function startService(
  definition: ServiceDefinition,
  options: StartOptions,
): Promise<RunningService> {
  const config = loadConfig(definition.configSchema, options.env);
  const secrets = new SecretMask(secretValues(options.env));
  const logger = createLogger({
    service: definition.name,
    version: definition.version,
    level: config.LOG_LEVEL,
    secrets,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const clock = options.clock ?? systemClock;
  const serviceTokens = await createServiceTokenSource(definition.name, config, secrets, clock);
  const verifier = await createTokenVerifier(config, clock);
  const pageTokenSecrets = await loadPageTokenSecrets(
    config.PAGE_TOKEN_SECRET_FILE,
    config.SHOAL_ENV,
  );
  pageTokenSecrets.forEach((secret) => secrets.add(secret));
  const metrics = new Metrics(definition.name);
  const readiness = new Readiness(definition.name, definition.version);
  const context: PlatformContext = {
    service: definition.name,
    version: definition.version,
    config,
    logger,
    secrets,
    metrics,
    readiness,
    clock,
    verifier,
    pageTokens: new PageTokens(pageTokenSecrets),
    topics: definition.topics,
    ...(serviceTokens ? { serviceTokens } : {}),
    ...(options.signal ? { startSignal: options.signal } : {}),
  };
  logger.info({ config: describeConfig(config) }, `starting ${definition.name}`);

  options.signal?.throwIfAborted();
  const ops = new OpsServer(readiness, metrics, logger);
  const httpPort = await ops.start(config.HTTP_HOST, config.HTTP_PORT);
  let app: INestApplicationContext | undefined;
  try {
    options.signal?.throwIfAborted();
    app = await NestFactory.createApplicationContext(rootModule(context, definition.features), {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    });
    options.signal?.throwIfAborted();
  } catch (error) {
    await app?.close();
    await ops.stop();
    throw error;
  }
  const started = app;
  return {
    app: started,
    context,
    grpcPort: started.get(PlatformLifecycle).grpcPort,
    httpPort,
    close: async () => {
      await started.close();
      await ops.stop();
    },
  };
}

/** Longest a stop may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

/** What runMain uses of the process: its environment, signals, exit and stderr. */
export interface MainProcess {
  readonly env: Env;
  on(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  exit(code: number): void;
  readonly stderr: { write(text: string): unknown };
}

/**
 * Process entry point: start, stop cleanly on SIGTERM/SIGINT, exit non-zero on failure. A signal
 * during start-up ends the waits for dependencies at once; what did start is then closed, and
 * the process exits 0 as after any requested stop.
 */
export function runMain(definition: ServiceDefinition, main: MainProcess = process): void {
  let logger: Logger | undefined;
  let running: RunningService | undefined;
  let stopping: string | undefined;
  const stopRequested = new AbortController();
  const fail = (message: string, code: number) => {
    main.stderr.write(`${definition.name}: ${message}\n`);
    main.exit(code);
  };
  const closeAndExit = (service: RunningService) =>
    service.close().then(
      () => main.exit(0),
      (error: unknown) => fail(`shutdown failed: ${String(error)}`, 1),
    );
  const stop = (signal: string) => {
    if (stopping) return fail(`second ${signal}: exiting without draining`, 1);
    stopping = signal;
    logger?.info({ signal }, 'stopping');
    // a supervisor kills after its own timeout (20 s locally, 45 s in the Helm chart):
    // exit first, saying so; work not yet committed is delivered again after the restart
    setTimeout(() => {
      logger?.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown did not finish in time; exiting');
      fail(`shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms`, 1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    // still starting: the start-up ends (see below) and closes what it opened
    stopRequested.abort(new Error(`${signal} during start-up`));
    if (running) void closeAndExit(running);
  };
  main.on('unhandledRejection', (reason) => {
    logger?.fatal({ err: reason }, 'unhandled rejection');
    fail(`unhandled rejection: ${String(reason)}`, 1);
  });
  main.on('SIGTERM', () => stop('SIGTERM'));
  main.on('SIGINT', () => stop('SIGINT'));
  startService(definition, { env: main.env, signal: stopRequested.signal }).then(
    (started) => {
      logger = started.context.logger;
      running = started;
      if (stopping) void closeAndExit(started);
    },
    (error: unknown) => {
      if (stopping) {
        main.stderr.write(`${definition.name}: stopped during start-up (${stopping})\n`);
        return main.exit(0);
      }
      // EX_CONFIG (78) tells an orchestrator that retrying will not help
      if (error instanceof ConfigError) return fail(error.message, 78);
      fail(
        `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        1,
      );
    },
  );
}

/** The effective configuration for the start-up log line; secret values are masked by the logger. */
function describeConfig(config: PlatformConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}

function rootModule(
  context: PlatformContext,
  features: ServiceDefinition['features'],
): DynamicModule {
  @Module({})
  class ServiceRootModule {}
  return { module: ServiceRootModule, imports: [PlatformModule.forRoot(context), ...features] };
}
