import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type JWK,
  type KeyLike,
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';
import { ConfigError } from '../config/config';
import type { PlatformConfig } from '../config/platform-config';
import type { SecretMask } from '../logging/secret-mask';
import type { Clock } from '../time/clock';
import { DEV_KEY_ID_PREFIX, SERVICE_CLAIM, SERVICE_SUBJECT_PREFIX } from './principal';
import { readJwks } from './token-verifier';

/** A private key that signs tokens, with the key id verifiers look it up by. */
export interface SigningKey {
  readonly key: KeyLike | Uint8Array;
  readonly kid: string;
  readonly alg: string;
  /** The public JWK's thumbprint, to find the key in a key set. */
  readonly thumbprint: string;
  /** The private JWK's secret parameters, so the logger can mask them. */
  readonly secretParts: readonly string[];
}

export async function loadSigningKey(
  file: string,
  variable = 'SERVICE_TOKEN_KEY_FILE',
): Promise<SigningKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (error) {
    throw new ConfigError([
      { variable, message: `cannot read ${file}: ${(error as Error).message}` },
    ]);
  }
  if (!jwk.d || !jwk.kid || !jwk.alg) {
    throw new ConfigError([
      { variable, message: `${file} must be a private JWK with "kid" and "alg"` },
    ]);
  }
  const secretParts = ['d', 'p', 'q', 'dp', 'dq', 'qi']
    .map((name) => (jwk as unknown as Record<string, unknown>)[name])
    .filter((v): v is string => typeof v === 'string');
  return {
    key: await importJWK(jwk, jwk.alg),
    kid: jwk.kid,
    alg: jwk.alg,
    thumbprint: await calculateJwkThumbprint(jwk),
    secretParts,
  };
}

export interface TokenClaims {
  readonly subject: string;
  readonly groups?: readonly string[];
  readonly service?: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly now: Date;
}

export async function signToken(signingKey: SigningKey, claims: TokenClaims): Promise<string> {
  const iat = Math.floor(claims.now.getTime() / 1000);
  const payload: Record<string, unknown> = {};
  if (claims.groups) payload.groups = [...claims.groups];
  if (claims.service) payload[SERVICE_CLAIM] = claims.service;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: signingKey.alg, kid: signingKey.kid, typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.ttlSeconds)
    .setJti(randomBytes(12).toString('hex'))
    .sign(signingKey.key);
}

export const SERVICE_TOKEN_TTL_SECONDS = 300;

/** Short-lived tokens a service presents when it calls another service; renewed before expiry. */
export class ServiceTokenSource {
  private cached?: { token: string; renewAt: number };

  constructor(
    private readonly service: string,
    private readonly signingKey: SigningKey,
    private readonly audience: { issuer: string; audience: string },
    private readonly clock: Clock,
  ) {}

  async token(): Promise<string> {
    const now = this.clock.now();
    if (this.cached && now.getTime() < this.cached.renewAt) return this.cached.token;
    const token = await signToken(this.signingKey, {
      subject: `${SERVICE_SUBJECT_PREFIX}${this.service}`,
      service: this.service,
      issuer: this.audience.issuer,
      audience: this.audience.audience,
      ttlSeconds: SERVICE_TOKEN_TTL_SECONDS,
      now,
    });
    this.cached = { token, renewAt: now.getTime() + (SERVICE_TOKEN_TTL_SECONDS * 1000) / 2 };
    return token;
  }
}

/**
 * The service-token source of a service, from SERVICE_TOKEN_KEY_FILE (none when unset). The key
 * must be one the service key set trusts and never one the user key set trusts; production
 * refuses development keys.
 */
export async function createServiceTokenSource(
  service: string,
  config: Pick<
    PlatformConfig,
    | 'SERVICE_TOKEN_KEY_FILE'
    | 'SERVICE_TOKEN_JWKS_FILE'
    | 'SERVICE_TOKEN_ISSUER'
    | 'AUTH_JWKS_FILE'
    | 'AUTH_AUDIENCE'
    | 'SHOAL_ENV'
  >,
  secrets: SecretMask,
  clock: Clock,
): Promise<ServiceTokenSource | undefined> {
  if (!config.SERVICE_TOKEN_KEY_FILE) return undefined;
  const key = await loadSigningKey(config.SERVICE_TOKEN_KEY_FILE);
  key.secretParts.forEach((part) => secrets.add(part));
  const refuse = (message: string) => {
    throw new ConfigError([{ variable: 'SERVICE_TOKEN_KEY_FILE', message }]);
  };
  if (config.SHOAL_ENV === 'production' && key.kid.startsWith(DEV_KEY_ID_PREFIX)) {
    refuse('is a development key; production needs a real one');
  }
  const holds = async (file: string, variable: string) => {
    const set = await readJwks(file, variable, config.SHOAL_ENV);
    const prints = await Promise.all(set.keys.map((k) => calculateJwkThumbprint(k as JWK)));
    return prints.includes(key.thumbprint);
  };
  if (config.AUTH_JWKS_FILE && (await holds(config.AUTH_JWKS_FILE, 'AUTH_JWKS_FILE'))) {
    refuse('is trusted for user tokens (AUTH_JWKS_FILE): a service key must not mint user tokens');
  }
  if (
    config.SERVICE_TOKEN_JWKS_FILE &&
    !(await holds(config.SERVICE_TOKEN_JWKS_FILE, 'SERVICE_TOKEN_JWKS_FILE'))
  ) {
    refuse('has no public half in SERVICE_TOKEN_JWKS_FILE: other services would refuse its tokens');
  }
  return new ServiceTokenSource(
    service,
    key,
    { issuer: config.SERVICE_TOKEN_ISSUER, audience: config.AUTH_AUDIENCE },
    clock,
  );
}

export interface DevKeyFiles {
  /** Public keys of user tokens: AUTH_JWKS_FILE. */
  readonly userJwksFile: string;
  /** Private key the CLI and tests mint user tokens with, as an identity provider would. */
  readonly userSigningKeyFile: string;
  /** Public keys of service tokens: SERVICE_TOKEN_JWKS_FILE. */
  readonly serviceJwksFile: string;
  /** Private key services sign their service tokens with: SERVICE_TOKEN_KEY_FILE. */
  readonly serviceSigningKeyFile: string;
  /** The secret that signs page tokens: PAGE_TOKEN_SECRET_FILE. */
  readonly pageTokenSecretFile: string;
}

/** The variables that give a service the development keys. */
export function devKeyEnv(keys: DevKeyFiles): Record<string, string> {
  return {
    AUTH_JWKS_FILE: keys.userJwksFile,
    SERVICE_TOKEN_JWKS_FILE: keys.serviceJwksFile,
    SERVICE_TOKEN_KEY_FILE: keys.serviceSigningKeyFile,
    PAGE_TOKEN_SECRET_FILE: keys.pageTokenSecretFile,
  };
}

/** Where ensureDevKeys keeps the development keys under `dir`. */
export function devKeyFiles(dir: string): DevKeyFiles {
  return {
    userJwksFile: join(dir, 'dev-jwks.json'),
    userSigningKeyFile: join(dir, 'dev-signing-key.json'),
    serviceJwksFile: join(dir, 'dev-service-jwks.json'),
    serviceSigningKeyFile: join(dir, 'dev-service-signing-key.json'),
    pageTokenSecretFile: join(dir, 'dev-page-token-secret'),
  };
}

/**
 * Creates (once) the development keys under `dir`: a user key pair, a separate service key
 * pair and a page-token secret. Their key ids and the secret are marked as development ones, so
 * a production configuration refuses them.
 */
export async function ensureDevKeys(dir: string): Promise<DevKeyFiles> {
  const files = devKeyFiles(dir);
  await mkdir(dir, { recursive: true });
  await ensureKeyPair(files.userSigningKeyFile, files.userJwksFile, 'user');
  await ensureKeyPair(files.serviceSigningKeyFile, files.serviceJwksFile, 'service');
  if (!(await exists(files.pageTokenSecretFile))) {
    await writePrivate(files.pageTokenSecretFile, devPageTokenSecret());
  }
  return files;
}

/** A random page-token secret marked as a development one. */
export function devPageTokenSecret(): string {
  return `${DEV_KEY_ID_PREFIX}${randomBytes(32).toString('base64url')}`;
}

async function ensureKeyPair(privateFile: string, jwksFile: string, use: string): Promise<void> {
  if ((await exists(privateFile)) && (await exists(jwksFile))) return;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${DEV_KEY_ID_PREFIX}${use}-${randomBytes(6).toString('hex')}`;
  const meta = { kid, alg: 'ES256', use: 'sig' };
  await writePrivate(
    privateFile,
    JSON.stringify({ ...(await exportJWK(privateKey)), ...meta }, null, 2),
  );
  await writeFile(
    jwksFile,
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), ...meta }] }, null, 2),
  );
}

async function writePrivate(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}
