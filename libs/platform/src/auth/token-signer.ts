import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type JWK, type KeyLike, SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';
import { ConfigError } from '../config/config';
import type { Clock } from '../time/clock';
import { DEV_KEY_ID_PREFIX, SERVICE_CLAIM } from './principal';

/** A private key that signs tokens, with the key id verifiers look it up by. */
export interface SigningKey {
  readonly key: KeyLike | Uint8Array;
  readonly kid: string;
  readonly alg: string;
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
  return { key: await importJWK(jwk, jwk.alg), kid: jwk.kid, alg: jwk.alg, secretParts };
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

const SERVICE_TOKEN_TTL_SECONDS = 300;

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
      subject: `service:${this.service}`,
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

export interface DevKeyFiles {
  /** Public keys: give to services as AUTH_JWKS_FILE. */
  readonly jwksFile: string;
  /** Private key: services sign service tokens with it, the CLI mints user tokens. */
  readonly signingKeyFile: string;
}

/**
 * Creates (once) a development key pair under `dir`. Its key id marks it as a development key,
 * so a production configuration refuses it.
 */
export async function ensureDevKeys(dir: string): Promise<DevKeyFiles> {
  const files = {
    jwksFile: join(dir, 'dev-jwks.json'),
    signingKeyFile: join(dir, 'dev-signing-key.json'),
  };
  try {
    await readFile(files.signingKeyFile);
    await readFile(files.jwksFile);
    return files;
  } catch {
    // not there yet: create below
  }
  await mkdir(dir, { recursive: true });
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${DEV_KEY_ID_PREFIX}${randomBytes(6).toString('hex')}`;
  const meta = { kid, alg: 'ES256', use: 'sig' };
  await writeFile(
    files.signingKeyFile,
    JSON.stringify({ ...(await exportJWK(privateKey)), ...meta }, null, 2),
    { mode: 0o600 },
  );
  await chmod(files.signingKeyFile, 0o600);
  await writeFile(
    files.jwksFile,
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), ...meta }] }, null, 2),
  );
  return files;
}
