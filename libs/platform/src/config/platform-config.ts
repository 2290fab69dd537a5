import { z } from 'zod';
import { env } from './config';

export const ShoalEnvironments = ['development', 'test', 'production'] as const;

/** Defaults a service chooses for itself (its ports and database). */
export interface ServiceDefaults {
  readonly service: string;
  readonly grpcPort: number;
  readonly httpPort: number;
}

/**
 * The variables every Shoal service reads. Each service extends this shape with its own.
 * Descriptions feed the README's configuration table (a test keeps them in step).
 */
export function platformConfigShape(defaults: ServiceDefaults) {
  return {
    SHOAL_ENV: env.oneOf(
      ShoalEnvironments,
      'development',
      '`production` refuses development keys and requires real ones',
    ),
    LOG_LEVEL: env.oneOf(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'info',
      'pino log level',
    ),
    GRPC_HOST: z.string().default('127.0.0.1').describe('address the gRPC server binds'),
    GRPC_PORT: env.port(defaults.grpcPort, 'gRPC port (0 picks a free one)'),
    GRPC_MAX_MESSAGE_BYTES: env.int(
      4 * 1024 * 1024,
      'largest gRPC request or response accepted (RESOURCE_EXHAUSTED above)',
      1024,
    ),
    GRPC_TLS_CERT_FILE: env.optionalString('PEM certificate; with GRPC_TLS_KEY_FILE enables TLS'),
    GRPC_TLS_KEY_FILE: env.optionalString('PEM private key for GRPC_TLS_CERT_FILE'),
    GRPC_TLS_CLIENT_CA_FILE: env.optionalString(
      'PEM CA bundle; when set, clients must present certificates (mTLS)',
    ),
    GRPC_CLIENT_TLS_CA_FILE: env.optionalString(
      'PEM CA bundle this service trusts when calling other services over TLS',
    ),
    GRPC_CLIENT_TLS_CERT_FILE: env.optionalString(
      'PEM certificate this service presents when calling services that require mTLS',
    ),
    GRPC_CLIENT_TLS_KEY_FILE: env.optionalString('PEM private key for GRPC_CLIENT_TLS_CERT_FILE'),
    GRPC_CLIENT_DEADLINE_MS: env.int(10_000, 'deadline of calls this service makes', 1),
    HTTP_HOST: z.string().default('127.0.0.1').describe('address of /healthz, /readyz, /metrics'),
    HTTP_PORT: env.port(
      defaults.httpPort,
      'port of /healthz, /readyz, /metrics (0 picks a free one)',
    ),
    KAFKA_BROKERS: env.list('comma-separated bootstrap brokers, e.g. 127.0.0.1:19092'),
    KAFKA_CLIENT_ID: z.string().default(`shoal-${defaults.service}`).describe('Kafka client id'),
    KAFKA_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only')
      .default('')
      .describe('prefix for every topic name (one cluster, several deployments)'),
    KAFKA_PARTITIONS: env.optionalInt(
      'partitions for topics Shoal creates, instead of the catalogue default',
    ),
    KAFKA_REPLICATION_FACTOR: env.int(1, 'replication factor for topics Shoal creates', 1),
    KAFKA_SSL: env.bool(false, 'connect to Kafka over TLS'),
    KAFKA_SSL_CA_FILE: env.optionalString('PEM CA bundle for Kafka TLS'),
    KAFKA_SASL_MECHANISM: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
      .optional()
      .describe('SASL mechanism; needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD'),
    KAFKA_SASL_USERNAME: env.optionalString('SASL user name'),
    KAFKA_SASL_PASSWORD: env.optionalString('SASL password (secret: never logged)'),
    KAFKA_MAX_MESSAGE_BYTES: env.int(
      1024 * 1024,
      'largest record produced or accepted; larger upstream records are dead-lettered',
      1024,
    ),
    KAFKA_CONSUMER_STALLED_AFTER_MS: env.int(
      60_000,
      'a partition making no progress for this long (failures that do not clear) makes /readyz not ready',
      1,
    ),
    KAFKA_COMMIT_INTERVAL_MS: env.int(
      1_000,
      "consumers commit offsets at most this often, each commit carrying every batch done meanwhile (after a crash, at most this long's records are delivered again; effects are idempotent)",
      0,
    ),
    MONGO_URL: env.string(
      'MongoDB connection string (credentials in it are never logged), e.g. mongodb://127.0.0.1:27027',
    ),
    MONGO_DATABASE: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only')
      .default(`shoal_${defaults.service}`)
      .describe('database this service owns'),
    MONGO_READ_TIME_LIMIT_MS: env.int(
      10_000,
      "longest a store read made for a gRPC call may take (maxTimeMS; less when the call's deadline is nearer), then the call answers UNAVAILABLE",
      1,
    ),
    AUTH_JWKS_FILE: env.optionalString(
      'JSON Web Key Set file with the public keys that sign user tokens',
    ),
    AUTH_JWKS_URL: env.optionalString(
      "identity provider's JWKS URL (alternative to AUTH_JWKS_FILE)",
    ),
    AUTH_ISSUER: z.string().default('shoal').describe('required `iss` of user tokens'),
    AUTH_AUDIENCE: z.string().default('shoal').describe('required `aud` of tokens'),
    AUTH_GROUPS_CLAIM: z.string().default('groups').describe('claim holding the caller’s groups'),
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: env.int(
      86_400,
      'longest lifetime (`exp` − `iat`) of a user token, in seconds; tokens without `iat` are refused',
      60,
    ),
    SERVICE_TOKEN_ISSUER: z
      .string()
      .min(1)
      .default('shoal-service')
      .describe('`iss` of service tokens; must differ from AUTH_ISSUER'),
    SERVICE_TOKEN_JWKS_FILE: env.optionalString(
      'JSON Web Key Set file with the public keys of service tokens (none of them in AUTH_JWKS_FILE)',
    ),
    PAGE_TOKEN_SECRET_FILE: env.string(
      'file with the secret that signs page tokens (32+ bytes; one per line, the first signs, the rest still verify); the same on every replica of a service',
    ),
    SERVICE_TOKEN_KEY_FILE: env.optionalString(
      'private JWK this service signs its service tokens with (its public half in SERVICE_TOKEN_JWKS_FILE)',
    ),
  };
}

export type PlatformConfig = z.output<z.ZodObject<ReturnType<typeof platformConfigShape>>>;

/** Cross-field rules every service's schema applies. */
export function refinePlatformConfig(config: PlatformConfig, ctx: z.core.$RefinementCtx): void {
  const need = (when: boolean, variable: string, message: string) => {
    if (when) ctx.addIssue({ code: 'custom', path: [variable], message });
  };
  need(
    !!config.GRPC_TLS_CERT_FILE !== !!config.GRPC_TLS_KEY_FILE,
    config.GRPC_TLS_CERT_FILE ? 'GRPC_TLS_KEY_FILE' : 'GRPC_TLS_CERT_FILE',
    'GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE go together',
  );
  need(
    !!config.GRPC_TLS_CLIENT_CA_FILE && !config.GRPC_TLS_CERT_FILE,
    'GRPC_TLS_CLIENT_CA_FILE',
    'client certificates (mTLS) need server TLS: set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE',
  );
  need(
    !!config.GRPC_CLIENT_TLS_CERT_FILE !== !!config.GRPC_CLIENT_TLS_KEY_FILE,
    config.GRPC_CLIENT_TLS_CERT_FILE ? 'GRPC_CLIENT_TLS_KEY_FILE' : 'GRPC_CLIENT_TLS_CERT_FILE',
    'GRPC_CLIENT_TLS_CERT_FILE and GRPC_CLIENT_TLS_KEY_FILE go together',
  );
  need(
    !!config.GRPC_CLIENT_TLS_CERT_FILE && !config.GRPC_CLIENT_TLS_CA_FILE,
    'GRPC_CLIENT_TLS_CA_FILE',
    'a client certificate is only sent over TLS: set GRPC_CLIENT_TLS_CA_FILE',
  );
  need(
    !!config.KAFKA_SASL_MECHANISM && (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD),
    config.KAFKA_SASL_USERNAME ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_SASL_USERNAME',
    'KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
  );
  need(
    !config.AUTH_JWKS_FILE && !config.AUTH_JWKS_URL,
    'AUTH_JWKS_FILE',
    'set AUTH_JWKS_FILE or AUTH_JWKS_URL: every gRPC call is verified against these keys',
  );
  need(
    config.SERVICE_TOKEN_ISSUER === config.AUTH_ISSUER,
    'SERVICE_TOKEN_ISSUER',
    'must differ from AUTH_ISSUER: the issuer tells service tokens from user tokens',
  );
  need(
    config.SHOAL_ENV === 'production' && !config.SERVICE_TOKEN_KEY_FILE,
    'SERVICE_TOKEN_KEY_FILE',
    'production needs a service signing key',
  );
  need(
    config.SHOAL_ENV === 'production' && !config.SERVICE_TOKEN_JWKS_FILE,
    'SERVICE_TOKEN_JWKS_FILE',
    'production needs the service key set, or no service could call this one',
  );
}
