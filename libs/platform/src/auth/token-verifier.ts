import { readFile } from 'node:fs/promises';
import {
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors,
  jwtVerify,
} from 'jose';
import { ConfigError } from '../config/config';
import type { PlatformConfig } from '../config/platform-config';
import type { DomainError } from '../errors/domain-error';
import { type Clock, systemClock } from '../time/clock';
import { AuthError } from './auth.errors';
import {
  DEV_KEY_ID_PREFIX,
  type Principal,
  SERVICE_CLAIM,
  SERVICE_SUBJECT_PREFIX,
} from './principal';

export const ACCEPTED_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];

/** Seconds two clocks may disagree by when checking `exp` and `iat`. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * Longest lifetime (exp − iat) a service token may have. Services mint their own tokens for
 * SERVICE_TOKEN_TTL_SECONDS and renew them, so anything longer was not minted by a service.
 */
export const SERVICE_TOKEN_MAX_LIFETIME_SECONDS = 600;

/**
 * Verified tokens remembered at most (the least recently used go first). Callers reuse a token
 * for its whole life, so a few thousand cover every user and service calling at once.
 */
export const DEFAULT_TOKEN_CACHE_SIZE = 4_096;

/** One kind of token: who issues it and the keys that sign it. */
interface TokenIssuer {
  readonly issuer: string;
  readonly keys: JWTVerifyGetKey;
  readonly maxLifetimeSeconds: number;
}

export interface TokenVerifierOptions {
  /** User tokens: issued by the identity provider, signed by AUTH_JWKS_* keys. */
  readonly users: TokenIssuer;
  /** Service tokens: minted by Shoal's services with keys of their own; absent, none is accepted. */
  readonly services?: TokenIssuer | undefined;
  readonly audience: string;
  readonly groupsClaim: string;
  readonly clock: Clock;
  /** Verified tokens remembered (DEFAULT_TOKEN_CACHE_SIZE when absent); 0 remembers none. */
  readonly cacheSize?: number;
}

/** A token that passed every check, and what it was checked against. */
interface VerifiedToken {
  readonly principal: Principal;
  readonly issuer: TokenIssuer;
  /** What the issuer's key set was asked, and the key it gave. */
  readonly header: JWTHeaderParameters;
  readonly input: FlattenedJWSInput;
  readonly key: unknown;
  readonly iat: number;
  readonly exp: number;
  readonly nbf: number | undefined;
}

/**
 * Verifies bearer JWTs and turns their claims into a Principal. User and service tokens are
 * told apart by issuer and verified only with their own issuer's keys, so the key that signs
 * user tokens cannot make a service token, nor a service key a user token.
 */
export class TokenVerifier {
  /**
   * Tokens verified before, by the whole token, in least-recently-used order. Signature and
   * time-free claims need no second look; on every use an entry is checked again against the
   * clock (exp, nbf, iat) and against the key set in use, which must still give the very key
   * that verified it, so a removed or rotated key ends its tokens at once.
   */
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly cacheSize: number;

  constructor(private readonly options: TokenVerifierOptions) {
    this.cacheSize = options.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE;
  }

  /** How many verified tokens are remembered. */
  get cachedTokens(): number {
    return this.verified.size;
  }

  /** Verifies an `authorization` header value ("Bearer <jwt>"). */
  async verifyAuthorization(header: string | undefined): Promise<Principal> {
    if (!header) throw AuthError.missing();
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match?.[1]) throw AuthError.notBearer();
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached !== undefined) {
      const valid = await this.stillValid(cached);
      // concurrent calls with the token may have moved, replaced or evicted the entry meanwhile
      if (this.verified.get(token) === cached) {
        this.verified.delete(token);
        if (valid) this.verified.set(token, cached);
      }
      if (valid) return cached.principal;
    }
    const verified = await this.verifyFully(token);
    this.remember(token, verified);
    return verified.principal;
  }

  private async verifyFully(token: string): Promise<VerifiedToken> {
    const { services, users } = this.options;
    const isService = services !== undefined && issuerOf(token) === services.issuer;
    const issuer = isService ? services : users;
    const { payload, header, key } = await this.verifiedPayload(token, issuer);
    const checked = {
      issuer,
      header,
      input: flattened(token),
      key,
      iat: payload.iat as number,
      exp: payload.exp as number,
      nbf: payload.nbf,
    };
    const subject = payload.sub as string;
    const service = payload[SERVICE_CLAIM];
    if (isService) {
      if (typeof service !== 'string' || subject !== `${SERVICE_SUBJECT_PREFIX}${service}`)
        throw AuthError.notTheService(SERVICE_CLAIM, SERVICE_SUBJECT_PREFIX);
      return {
        ...checked,
        principal: principal({ subject, groups: [], kind: 'service', service }),
      };
    }
    if (service !== undefined || subject.startsWith(SERVICE_SUBJECT_PREFIX))
      throw AuthError.userClaimsService(SERVICE_CLAIM, SERVICE_SUBJECT_PREFIX);
    const rawGroups = payload[this.options.groupsClaim];
    const groups = Array.isArray(rawGroups)
      ? rawGroups.filter((g): g is string => typeof g === 'string')
      : [];
    return { ...checked, principal: principal({ subject, groups, kind: 'user' }) };
  }

  /**
   * Whether a remembered token would pass verification now: the same time checks as jose and
   * verifiedPayload, and the key set still giving the same key. Anything else is verified anew,
   * so a refusal carries the reason a first verification would give.
   */
  private async stillValid(entry: VerifiedToken): Promise<boolean> {
    const nowMs = this.options.clock.now().getTime();
    const now = Math.floor(nowMs / 1000);
    if (entry.exp <= now - CLOCK_TOLERANCE_SECONDS) return false;
    if (entry.nbf !== undefined && entry.nbf > now + CLOCK_TOLERANCE_SECONDS) return false;
    if (entry.iat > nowMs / 1000 + CLOCK_TOLERANCE_SECONDS) return false;
    try {
      return (await entry.issuer.keys(entry.header, entry.input)) === entry.key;
    } catch {
      return false;
    }
  }

  private remember(token: string, verified: VerifiedToken): void {
    if (this.cacheSize <= 0) return;
    while (this.verified.size >= this.cacheSize) {
      const oldest = this.verified.keys().next().value as string;
      this.verified.delete(oldest);
    }
    this.verified.set(token, verified);
  }

  private async verifiedPayload(
    token: string,
    issuer: TokenIssuer,
  ): Promise<{ payload: JWTPayload; header: JWTHeaderParameters; key: unknown }> {
    const now = this.options.clock.now();
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, issuer.keys, {
        issuer: issuer.issuer,
        audience: this.options.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: now,
      });
    } catch (error) {
      throw joseRefusal(error);
    }
    const payload = verified.payload;
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw AuthError.claimRejected('sub', 'must be a non-empty string');
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (iat > now.getTime() / 1000 + CLOCK_TOLERANCE_SECONDS)
      throw AuthError.claimRejected('iat', 'issued in the future');
    if (exp - iat > issuer.maxLifetimeSeconds)
      throw AuthError.lifetimeTooLong(issuer.maxLifetimeSeconds);
    return { payload, header: verified.protectedHeader, key: verified.key };
  }
}

/** Shared by every call the token makes, so nobody may change it. */
function principal(p: Principal): Principal {
  Object.freeze(p.groups);
  return Object.freeze(p);
}

/** A compact JWS as the key set is asked about it (jose passes the same). */
function flattened(token: string): FlattenedJWSInput {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return { protected: header, payload, signature };
}

function issuerOf(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

/** The refusal a failed jose verification stands for. */
function joseRefusal(error: unknown): DomainError {
  if (error instanceof errors.JWTExpired) return AuthError.expired();
  if (error instanceof errors.JWTClaimValidationFailed)
    return AuthError.claimRejected(error.claim, error.reason);
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey
  ) {
    return AuthError.untrusted();
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return AuthError.algorithmRefused();
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return AuthError.malformed();
  return AuthError.unverifiable();
}

export type TokenVerifierConfig = Pick<
  PlatformConfig,
  | 'AUTH_JWKS_FILE'
  | 'AUTH_JWKS_URL'
  | 'AUTH_ISSUER'
  | 'AUTH_AUDIENCE'
  | 'AUTH_GROUPS_CLAIM'
  | 'AUTH_MAX_TOKEN_LIFETIME_SECONDS'
  | 'SERVICE_TOKEN_JWKS_FILE'
  | 'SERVICE_TOKEN_ISSUER'
  | 'SHOAL_ENV'
>;

/**
 * Builds the verifier from AUTH_* and SERVICE_TOKEN_* configuration. Production refuses
 * development keys; a key in both the user and the service key set is refused everywhere.
 */
export async function createTokenVerifier(
  config: TokenVerifierConfig,
  clock: Clock = systemClock,
): Promise<TokenVerifier> {
  const userJwks = config.AUTH_JWKS_FILE
    ? await readJwks(config.AUTH_JWKS_FILE, 'AUTH_JWKS_FILE', config.SHOAL_ENV)
    : undefined;
  let userKeys: JWTVerifyGetKey;
  if (userJwks) userKeys = createLocalJWKSet(userJwks);
  else if (config.AUTH_JWKS_URL) userKeys = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL));
  else
    throw new ConfigError([
      { variable: 'AUTH_JWKS_FILE', message: 'set AUTH_JWKS_FILE or AUTH_JWKS_URL' },
    ]);

  let services: TokenIssuer | undefined;
  if (config.SERVICE_TOKEN_JWKS_FILE) {
    const serviceJwks = await readJwks(
      config.SERVICE_TOKEN_JWKS_FILE,
      'SERVICE_TOKEN_JWKS_FILE',
      config.SHOAL_ENV,
    );
    if (userJwks) await refuseSharedKeys(userJwks, serviceJwks);
    services = {
      issuer: config.SERVICE_TOKEN_ISSUER,
      keys: createLocalJWKSet(serviceJwks),
      maxLifetimeSeconds: SERVICE_TOKEN_MAX_LIFETIME_SECONDS,
    };
  }
  return new TokenVerifier({
    users: {
      issuer: config.AUTH_ISSUER,
      keys: userKeys,
      maxLifetimeSeconds: config.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    },
    services,
    audience: config.AUTH_AUDIENCE,
    groupsClaim: config.AUTH_GROUPS_CLAIM,
    clock,
  });
}

/** A key trusted for both kinds of token would let one kind's signer mint the other. */
async function refuseSharedKeys(users: JSONWebKeySet, services: JSONWebKeySet): Promise<void> {
  const fingerprints = async (set: JSONWebKeySet) =>
    new Set(await Promise.all(set.keys.map((k) => calculateJwkThumbprint(k as JWK))));
  const userPrints = await fingerprints(users);
  const shared = [...(await fingerprints(services))].filter((p) => userPrints.has(p));
  const userKids = new Set(users.keys.map((k) => k.kid).filter(Boolean));
  const sharedKids = services.keys.filter((k) => k.kid && userKids.has(k.kid));
  if (shared.length > 0 || sharedKids.length > 0) {
    throw new ConfigError([
      {
        variable: 'SERVICE_TOKEN_JWKS_FILE',
        message:
          'shares keys (or key ids) with AUTH_JWKS_FILE; service and user tokens need separate keys',
      },
    ]);
  }
}

/** A public JWK set from a file; production refuses development keys in it. */
export async function readJwks(
  file: string,
  variable: string,
  environment: string,
): Promise<JSONWebKeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([
      { variable, message: `cannot read ${file}: ${(error as Error).message}` },
    ]);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError([
      { variable, message: `${file} is not a JWK set with at least one key` },
    ]);
  }
  if (keys.some((k: { d?: unknown }) => k.d !== undefined)) {
    throw new ConfigError([
      { variable, message: `${file} contains private key material; give it public keys only` },
    ]);
  }
  const jwks = parsed as JSONWebKeySet;
  if (environment === 'production' && jwks.keys.some((k) => k.kid?.startsWith(DEV_KEY_ID_PREFIX))) {
    throw new ConfigError([
      { variable, message: 'holds development keys; production needs real keys' },
    ]);
  }
  return jwks;
}
