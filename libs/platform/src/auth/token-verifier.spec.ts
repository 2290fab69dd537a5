import { type KeyLike, SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { DomainError, ErrorKind } from '../errors/domain-error';
import { AuthErrorCode } from './auth.errors';
import type { Principal } from './principal';
import { TokenVerifier } from './token-verifier';

const NOW = new Date('2026-12-01T12:00:00Z');
const nowSeconds = NOW.getTime() / 1000;

async function keyPair(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    kid,
    privateKey,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256' }] },
  };
}

type Key = Awaited<ReturnType<typeof keyPair>>;

function sign(key: Key, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey as KeyLike);
}

describe('token verifier', () => {
  let users: Key;
  let services: Key;
  let verifier: TokenVerifier;
  const user = { iss: 'idp', aud: 'shoal', sub: 'ann', groups: ['marketing'] };
  const service = {
    iss: 'shoal-service',
    aud: 'shoal',
    sub: 'service:membership',
    shoal_service: 'membership',
  };
  const lifetime = (seconds: number, issuedAgo = 0) => ({
    iat: nowSeconds - issuedAgo,
    exp: nowSeconds - issuedAgo + seconds,
  });

  beforeAll(async () => {
    users = await keyPair('user-key');
    services = await keyPair('service-key');
    verifier = new TokenVerifier({
      users: { issuer: 'idp', keys: createLocalJWKSet(users.jwks), maxLifetimeSeconds: 3_600 },
      services: {
        issuer: 'shoal-service',
        keys: createLocalJWKSet(services.jwks),
        maxLifetimeSeconds: 600,
      },
      audience: 'shoal',
      groupsClaim: 'groups',
      clock: { now: () => NOW },
    });
  });

  /** The refusal of a token: UNAUTHENTICATED, its reason and message. */
  const refused = async (verified: Promise<Principal>) => {
    const error = await verified.then(
      (p: Principal) => p,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    const { kind, reason, message } = error as DomainError;
    expect(kind).toBe(ErrorKind.Unauthenticated);
    return { reason, message };
  };
  const refusal = async (token: Promise<string>) =>
    (await refused(verifier.verify(await token))).message;
  const reasonFor = async (token: Promise<string>) =>
    (await refused(verifier.verify(await token))).reason;

  it('takes a user token signed by a user key as that user with their groups', async () => {
    await expect(
      verifier.verify(await sign(users, { ...user, ...lifetime(600) })),
    ).resolves.toEqual({ subject: 'ann', groups: ['marketing'], kind: 'user' });
  });

  it('takes a service token signed by a service key as that service', async () => {
    await expect(
      verifier.verify(await sign(services, { ...service, ...lifetime(300) })),
    ).resolves.toEqual({
      subject: 'service:membership',
      groups: [],
      kind: 'service',
      service: 'membership',
    });
  });

  it('refuses a service token signed by the user key', async () => {
    expect(await refusal(sign(users, { ...service, ...lifetime(300) }))).toBe(
      'token is not signed by a trusted key',
    );
  });

  it('refuses a user token that claims to be a service', async () => {
    expect(await refusal(sign(users, { ...service, iss: 'idp', ...lifetime(300) }))).toMatch(
      /user token may not claim to be a service/,
    );
    expect(
      await refusal(sign(users, { ...user, sub: 'service:membership', ...lifetime(300) })),
    ).toMatch(/user token may not claim to be a service/);
  });

  it('refuses a user token signed by a service key', async () => {
    expect(await refusal(sign(services, { ...user, ...lifetime(300) }))).toBe(
      'token is not signed by a trusted key',
    );
  });

  it('refuses a service token whose subject is not the service it names', async () => {
    expect(
      await refusal(sign(services, { ...service, sub: 'service:exporter', ...lifetime(300) })),
    ).toMatch(/service token needs/);
  });

  it('refuses a token living longer than its issuer’s maximum', async () => {
    expect(await refusal(sign(users, { ...user, ...lifetime(100 * 365 * 86_400) }))).toMatch(
      /lifetime .* over the maximum of 3600 s/,
    );
    expect(await refusal(sign(services, { ...service, ...lifetime(3_600) }))).toMatch(
      /over the maximum of 600 s/,
    );
  });

  it('refuses a token whose subject is not a name', async () => {
    for (const sub of [42, '', ['ann']]) {
      expect(await refusal(sign(users, { ...user, sub, ...lifetime(300) }))).toMatch(/"sub"/);
    }
  });

  it('refuses a token without an issue time', async () => {
    expect(await refusal(sign(users, { ...user, exp: nowSeconds + 60 }))).toMatch(/"iat"/);
  });

  it('refuses a token issued in the future beyond the clock tolerance, and accepts one within it', async () => {
    expect(await refusal(sign(users, { ...user, ...lifetime(600, -60) }))).toMatch(
      /issued in the future/,
    );
    await expect(
      verifier.verify(await sign(users, { ...user, ...lifetime(600, -3) })),
    ).resolves.toMatchObject({ subject: 'ann' });
  });

  it('judges expiry by its clock', async () => {
    expect(await refusal(sign(users, { ...user, ...lifetime(600, 610) }))).toBe('token expired');
  });

  it('refuses each way with a reason of its own', async () => {
    const header = async (value: string | undefined) =>
      (await refused(verifier.verifyAuthorization(value))).reason;
    expect(await header(undefined)).toBe(AuthErrorCode.Missing);
    expect(await header('Basic YW5uOnNlY3JldA==')).toBe(AuthErrorCode.Malformed);
    expect(await header('Bearer not.a-jwt')).toBe(AuthErrorCode.Malformed);
    expect(await reasonFor(sign(users, { ...user, ...lifetime(600, 610) }))).toBe(
      AuthErrorCode.Expired,
    );
    expect(await reasonFor(sign(services, { ...user, ...lifetime(300) }))).toBe(
      AuthErrorCode.Untrusted,
    );
    for (const claims of [
      { ...user, aud: 'elsewhere', ...lifetime(300) },
      { ...user, sub: '', ...lifetime(300) },
      { ...user, ...lifetime(600, -60) },
      { ...user, ...lifetime(100 * 365 * 86_400) },
      { ...service, iss: 'idp', ...lifetime(300) },
    ]) {
      expect(await reasonFor(sign(users, claims))).toBe(AuthErrorCode.Rejected);
    }
    expect(
      await reasonFor(sign(services, { ...service, sub: 'service:exporter', ...lifetime(300) })),
    ).toBe(AuthErrorCode.Rejected);
  });

  it('accepts no service token when no service key set is configured', async () => {
    const usersOnly = new TokenVerifier({
      users: { issuer: 'idp', keys: createLocalJWKSet(users.jwks), maxLifetimeSeconds: 3_600 },
      audience: 'shoal',
      groupsClaim: 'groups',
      clock: { now: () => NOW },
    });
    expect(
      (await refused(usersOnly.verify(await sign(services, { ...service, ...lifetime(300) }))))
        .reason,
    ).toBe(AuthErrorCode.Untrusted);
  });
});
