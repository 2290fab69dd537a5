import type { TopicSpec } from '@shoal/contracts';
import type { Logger } from 'pino';
import type { ServiceTokenSource } from '../auth/token-signer';
import type { TokenVerifier } from '../auth/token-verifier';
import type { PlatformConfig } from '../config/platform-config';
import type { PageTokens } from '../grpc/page-token';
import type { Readiness } from '../health/readiness';
import type { SecretMask } from '../logging/secret-mask';
import type { Metrics } from '../metrics/metrics';
import type { Clock } from '../time/clock';

/**
 * Everything a service is built on, created once at start-up before NestJS wires the
 * features: validated configuration, logger, metrics, readiness and the verified-identity
 * machinery.
 */
export interface PlatformContext<C extends PlatformConfig = PlatformConfig> {
  readonly service: string;
  readonly version: string;
  readonly config: C;
  readonly logger: Logger;
  readonly secrets: SecretMask;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly clock: Clock;
  readonly verifier: TokenVerifier;
  /** Signs and checks the page tokens of list calls (PAGE_TOKEN_SECRET_FILE). */
  readonly pageTokens: PageTokens;
  /** Present when SERVICE_TOKEN_KEY_FILE is configured. */
  readonly serviceTokens?: ServiceTokenSource;
  /** Topics the service produces to or consumes; created at start-up if missing. */
  readonly topics: readonly TopicSpec[];
  /** Aborted when the process is asked to stop while starting: waits for dependencies end. */
  readonly startSignal?: AbortSignal;
}

/** DI tokens for platform values that are not classes. */
export const PLATFORM = Symbol('PlatformContext');
export const CONFIG = Symbol('Config');
