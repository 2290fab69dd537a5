import { env, serviceConfigSchema, type ServiceDefinition } from '@shoal/platform';
import { z } from 'zod';
import { version } from '../package.json';
import { AppModule } from './app.module';

const address = (port: number, service: string) =>
  z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .default(`127.0.0.1:${port}`)
    .describe(`host:port of the ${service} service's gRPC server`);

export const consoleConfigSchema = serviceConfigSchema(
  { service: 'console', grpcPort: 50056, httpPort: 9456 },
  {
    CONSOLE_HOST: z
      .string()
      .default('127.0.0.1')
      .describe('address the console (web app and Connect endpoint) binds'),
    CONSOLE_PORT: env.port(8456, 'port of the console; 0 picks a free one'),
    CONSOLE_TLS_CERT_FILE: env.optionalString(
      'PEM certificate; with CONSOLE_TLS_KEY_FILE the console serves HTTPS and its cookie is Secure',
    ),
    CONSOLE_TLS_KEY_FILE: env.optionalString('PEM private key for CONSOLE_TLS_CERT_FILE'),
    CONSOLE_SECURE_COOKIE: env.bool(
      false,
      'mark the session cookie Secure without CONSOLE_TLS_CERT_FILE (HTTPS ends at a proxy in front)',
    ),
    CONSOLE_WEB_DIR: env.optionalString(
      'directory of the built web app; unset, the one built beside the service (web/dist)',
    ),
    CONSOLE_SESSION_TTL_SECONDS: env.int(
      28_800,
      'how long a sign-in lasts; a session ends earlier when its token expires',
      60,
    ),
    CONSOLE_DEV_SIGN_IN: env.bool(
      false,
      'offer the development sign-in (any user name and groups; refused with SHOAL_ENV=production)',
    ),
    CONSOLE_DEV_SIGNING_KEY_FILE: env.optionalString(
      'private JWK the development sign-in signs user tokens with (the key `./shoal token` uses)',
    ),
    CONSOLE_OIDC_ISSUER_URL: env.optionalString(
      'OpenID Connect issuer the console signs users in with (authorization code + PKCE); its discovery document is read from the issuer URL + /.well-known/openid-configuration',
    ),
    CONSOLE_OIDC_CLIENT_ID: env.optionalString("the console's client id at the identity provider"),
    CONSOLE_OIDC_CLIENT_SECRET_FILE: env.optionalString(
      "file with the console's client secret (sent with HTTP Basic to the token endpoint)",
    ),
    CONSOLE_OIDC_REDIRECT_URL: env.optionalString(
      "the callback registered at the identity provider: the console's URL + /auth/oidc/callback",
    ),
    CONSOLE_OIDC_SCOPES: z
      .string()
      .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scopes')
      .default('openid profile')
      .describe('scopes asked for (openid is added when missing)'),
    CONSOLE_INGESTION_ADDRESS: address(50051, 'ingestion'),
    CONSOLE_SEGMENTS_ADDRESS: address(50052, 'segments'),
    CONSOLE_MEMBERSHIP_ADDRESS: address(50053, 'membership'),
    CONSOLE_SCHEDULER_ADDRESS: address(50054, 'scheduler'),
    CONSOLE_EXPORTER_ADDRESS: address(50055, 'exporter'),
    CONSOLE_EXPORTER_DOWNLOAD_URL: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:8455')
      .describe("base URL of the exporter's CSV download server"),
  },
).superRefine((config, ctx) => {
  if (!!config.CONSOLE_TLS_CERT_FILE !== !!config.CONSOLE_TLS_KEY_FILE)
    ctx.addIssue({
      code: 'custom',
      path: [config.CONSOLE_TLS_CERT_FILE ? 'CONSOLE_TLS_KEY_FILE' : 'CONSOLE_TLS_CERT_FILE'],
      message: 'CONSOLE_TLS_CERT_FILE and CONSOLE_TLS_KEY_FILE go together',
    });
  if (config.CONSOLE_DEV_SIGN_IN && config.SHOAL_ENV === 'production')
    ctx.addIssue({
      code: 'custom',
      path: ['CONSOLE_DEV_SIGN_IN'],
      message: 'the development sign-in lets anyone be anyone: never with SHOAL_ENV=production',
    });
  if (config.CONSOLE_OIDC_ISSUER_URL)
    for (const variable of [
      'CONSOLE_OIDC_CLIENT_ID',
      'CONSOLE_OIDC_CLIENT_SECRET_FILE',
      'CONSOLE_OIDC_REDIRECT_URL',
    ] as const)
      if (!config[variable])
        ctx.addIssue({
          code: 'custom',
          path: [variable],
          message: 'CONSOLE_OIDC_ISSUER_URL needs the client id, secret file and redirect URL',
        });
  for (const variable of ['CONSOLE_OIDC_ISSUER_URL', 'CONSOLE_OIDC_REDIRECT_URL'] as const) {
    const value = config[variable];
    if (value && !/^https?:\/\/[^\s]+$/.test(value))
      ctx.addIssue({ code: 'custom', path: [variable], message: 'must be an http(s) URL' });
  }
  if (config.CONSOLE_DEV_SIGN_IN && !config.CONSOLE_DEV_SIGNING_KEY_FILE)
    ctx.addIssue({
      code: 'custom',
      path: ['CONSOLE_DEV_SIGNING_KEY_FILE'],
      message: 'the development sign-in needs the key it signs user tokens with',
    });
});

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

/** Console: serves the web app and forwards its Connect calls to the services. */
export const consoleService: ServiceDefinition = {
  name: 'console',
  version,
  configSchema: consoleConfigSchema,
  topics: [],
  features: [AppModule],
};
