import { readFile } from 'node:fs/promises';
import {
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
} from 'jose';
import { ConfigError } from '../config/config';
import { DomainError, ErrorKind } from '../errors/domain-error';
import { DEV_KEY_ID_PREFIX, type Principal, SERVICE_CLAIM } from './principal';

export const ACCEPTED_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];

export class AuthenticationError extends DomainError {
  constructor(message: string) {
    super(ErrorKind.Unauthenticated, 'UNAUTHENTICATED', message);
  }
}

export interface TokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly groupsClaim: string;
}

/** Verifies bearer JWTs and turns their claims into a Principal. */
export class TokenVerifier {
  constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly options: TokenVerifierOptions,
  ) {}

  /** Verifies an `authorization` header value ("Bearer <jwt>"). */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (!header)
      throw new AuthenticationError(
        'missing bearer token (metadata "authorization: Bearer <jwt>")',
      );
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match?.[1]) throw new AuthenticationError('authorization must be "Bearer <jwt>"');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: 5,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw new AuthenticationError(describeJoseError(error));
    }
    const subject = payload.sub as string;
    const rawGroups = payload[this.options.groupsClaim];
    const groups = Array.isArray(rawGroups)
      ? rawGroups.filter((g): g is string => typeof g === 'string')
      : [];
    const service = payload[SERVICE_CLAIM];
    if (typeof service === 'string' && subject === `service:${service}`) {
      return { subject, groups, kind: 'service', service };
    }
    return { subject, groups, kind: 'user' };
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `token claim "${error.claim}" rejected: ${error.reason}`;
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey
  ) {
    return 'token is not signed by a trusted key';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not accepted';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return 'malformed token';
  return 'token could not be verified';
}

/** Builds the verifier from AUTH_* configuration; production refuses development keys. */
export async function createTokenVerifier(config: {
  AUTH_JWKS_FILE?: string | undefined;
  AUTH_JWKS_URL?: string | undefined;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_GROUPS_CLAIM: string;
  SHOAL_ENV: string;
}): Promise<TokenVerifier> {
  const options = {
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    groupsClaim: config.AUTH_GROUPS_CLAIM,
  };
  if (config.AUTH_JWKS_FILE) {
    const jwks = await readJwks(config.AUTH_JWKS_FILE);
    if (
      config.SHOAL_ENV === 'production' &&
      jwks.keys.some((k) => k.kid?.startsWith(DEV_KEY_ID_PREFIX))
    ) {
      throw new ConfigError([
        {
          variable: 'AUTH_JWKS_FILE',
          message: 'holds development keys; production needs real keys',
        },
      ]);
    }
    return new TokenVerifier(createLocalJWKSet(jwks), options);
  }
  if (config.AUTH_JWKS_URL) {
    return new TokenVerifier(createRemoteJWKSet(new URL(config.AUTH_JWKS_URL)), options);
  }
  throw new ConfigError([
    { variable: 'AUTH_JWKS_FILE', message: 'set AUTH_JWKS_FILE or AUTH_JWKS_URL' },
  ]);
}

async function readJwks(file: string): Promise<JSONWebKeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([
      { variable: 'AUTH_JWKS_FILE', message: `cannot read ${file}: ${(error as Error).message}` },
    ]);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError([
      { variable: 'AUTH_JWKS_FILE', message: `${file} is not a JWK set with at least one key` },
    ]);
  }
  if (keys.some((k: { d?: unknown }) => k.d !== undefined)) {
    throw new ConfigError([
      {
        variable: 'AUTH_JWKS_FILE',
        message: `${file} contains private key material; give it public keys only`,
      },
    ]);
  }
  return parsed as JSONWebKeySet;
}
