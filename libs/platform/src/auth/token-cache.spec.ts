import {
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  type KeyLike,
  SignJWT,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
} from 'jose';
import * as jose from 'jose';
import { DomainError, ErrorKind } from '../errors/domain-error';
import { AuthErrorCode } from './auth.errors';
import type { Principal } from './principal';
import { TokenVerifier } from './token-verifier';

// counts the signature verifications the verifier asks jose for, so a test can tell a cached
// answer from a verified one
jest.mock('jose', () => {
  const actual = jest.requireActual<typeof import('jose')>('jose');
  return { ...actual, jwtVerify: jest.fn(actual.jwtVerify) };
});
const jwtVerify = jose.jwtVerify as jest.MockedFunction<typeof jose.jwtVerify>;

const START = new Date('2026-12-01T12:00:00Z');
const startSeconds = START.getTime() / 1000;

async function keyPair(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256' }] };
  return { kid, privateKey, jwks };
}

type Key = Awaited<ReturnType<typeof keyPair>>;

function sign(key: Key, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey as KeyLike);
}

describe('token verifier cache', () => {
  let key: Key;
  let rotated: Key;
  let other: Key;
  let now: Date;
  /** The key set in use; a test swaps it to rotate keys, as a refreshed remote set would. */
  let keySet: JWTVerifyGetKey;
  const user = { iss: 'idp', aud: 'shoal', sub: 'ann', groups: ['marketing'] };
  const lifetime = (seconds: number) => ({ iat: startSeconds, exp: startSeconds + seconds });

  const verifierOf = (cacheSize?: number) =>
    new TokenVerifier({
      users: {
        issuer: 'idp',
        keys: (header, input) => keySet(header, input),
        maxLifetimeSeconds: 3_600,
      },
      audience: 'shoal',
      groupsClaim: 'groups',
      clock: { now: () => now },
      ...(cacheSize === undefined ? {} : { cacheSize }),
    });

  const reasonOf = async (verified: Promise<Principal>) => {
    const error = await verified.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe(ErrorKind.Unauthenticated);
    return (error as DomainError).reason;
  };

  beforeAll(async () => {
    key = await keyPair('user-key');
    rotated = await keyPair('user-key');
    other = await keyPair('other-key');
  });

  beforeEach(() => {
    now = START;
    keySet = createLocalJWKSet(key.jwks);
    jwtVerify.mockClear();
  });

  it('answers a token it verified before without checking its signature again', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    const first = await verifier.verify(token);
    await expect(verifier.verify(token)).resolves.toEqual(first);
    await expect(verifier.verifyAuthorization(`Bearer ${token}`)).resolves.toEqual(first);
    expect(first).toEqual({ subject: 'ann', groups: ['marketing'], kind: 'user' });
    expect(jwtVerify).toHaveBeenCalledTimes(1);
  });

  it('answers concurrent calls with a cached token from the cache', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    await Promise.all(Array.from({ length: 16 }, () => verifier.verify(token)));
    await verifier.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(1);
    expect(verifier.cachedTokens).toBe(1);
  });

  it('refuses a cached token as expired once the clock passes its exp', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    now = new Date(START.getTime() + 590_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'ann' });
    now = new Date(START.getTime() + 606_000);
    expect(await reasonOf(verifier.verify(token))).toBe(AuthErrorCode.Expired);
    expect(await reasonOf(verifier.verify(token))).toBe(AuthErrorCode.Expired);
  });

  it('refuses a cached token when the clock goes back before it was issued', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    now = new Date(START.getTime() - 60_000);
    expect(await reasonOf(verifier.verify(token))).toBe(AuthErrorCode.Rejected);
  });

  it('refuses a cached token once its key is removed from the key set', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    keySet = createLocalJWKSet(other.jwks);
    expect(await reasonOf(verifier.verify(token))).toBe(AuthErrorCode.Untrusted);
  });

  it('refuses a cached token once its key id names a rotated key', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    keySet = createLocalJWKSet(rotated.jwks);
    expect(await reasonOf(verifier.verify(token))).toBe(AuthErrorCode.Untrusted);
    await expect(
      verifier.verify(await sign(rotated, { ...user, ...lifetime(600) })),
    ).resolves.toMatchObject({ subject: 'ann' });
  });

  it('takes a cached token again once its key comes back, after verifying it anew', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    keySet = createLocalJWKSet(other.jwks);
    await reasonOf(verifier.verify(token));
    keySet = createLocalJWKSet(key.jwks);
    jwtVerify.mockClear();
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'ann' });
    expect(jwtVerify).toHaveBeenCalledTimes(1);
  });

  it('refuses tampered tokens that share a cached token’s prefix', async () => {
    const verifier = verifierOf();
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = (text: string) =>
      text.slice(0, -2) + (text.at(-2) === 'A' ? 'B' : 'A') + text.slice(-1);
    const forged = Buffer.from(
      JSON.stringify({ ...user, sub: 'admin', ...lifetime(600) }),
    ).toString('base64url');
    for (const tampered of [
      `${header}.${payload}.${flipped(signature)}`,
      `${header}.${payload}.${signature.slice(0, -4)}`,
      `${header}.${payload}.${signature}AAAA`,
      `${header}.${forged}.${signature}`,
      `${header}.${payload}.`,
    ]) {
      expect([AuthErrorCode.Untrusted, AuthErrorCode.Malformed]).toContain(
        await reasonOf(verifier.verify(tampered)),
      );
    }
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'ann' });
  });

  it('verifies a refused token again on every call rather than remembering it', async () => {
    const verifier = verifierOf();
    const notUser = await sign(key, { ...user, sub: 'service:membership', ...lifetime(600) });
    const unsigned = await sign(other, { ...user, ...lifetime(600) });
    for (let i = 0; i < 2; i++) {
      expect(await reasonOf(verifier.verify(notUser))).toBe(AuthErrorCode.Rejected);
      expect(await reasonOf(verifier.verify(unsigned))).toBe(AuthErrorCode.Untrusted);
    }
    expect(jwtVerify).toHaveBeenCalledTimes(4);
    expect(verifier.cachedTokens).toBe(0);
  });

  it('holds at most its bound of tokens, forgetting the least recently used', async () => {
    const verifier = verifierOf(2);
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((sub) => sign(key, { ...user, sub, ...lifetime(600) })),
    );
    await verifier.verify(a as string);
    await verifier.verify(b as string);
    await verifier.verify(a as string);
    await verifier.verify(c as string);
    expect(verifier.cachedTokens).toBe(2);
    jwtVerify.mockClear();
    await verifier.verify(a as string);
    await verifier.verify(c as string);
    expect(jwtVerify).not.toHaveBeenCalled();
    await verifier.verify(b as string);
    expect(jwtVerify).toHaveBeenCalledTimes(1);
    expect(verifier.cachedTokens).toBe(2);
  });

  it('caches nothing when its bound is 0', async () => {
    const verifier = verifierOf(0);
    const token = await sign(key, { ...user, ...lifetime(600) });
    await verifier.verify(token);
    await verifier.verify(token);
    expect(jwtVerify).toHaveBeenCalledTimes(2);
    expect(verifier.cachedTokens).toBe(0);
  });
});
