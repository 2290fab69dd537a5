import { CONFIG } from '@shoal/platform';
import { newTestService } from '@shoal/testing';
import { consoleConfigSchema } from '../service';
import type { ConsoleSession } from './session';
import { SESSION_REPOSITORY, type SessionRepositoryPort } from './sessions.repository.port';
import { SessionsService, sessionIdOf } from './sessions.service';
import { TOKEN_ISSUER, type TokenIssuerPort } from './token-issuer.port';

class InMemorySessions implements SessionRepositoryPort {
  readonly byId = new Map<string, ConsoleSession>();
  async save(session: ConsoleSession) {
    this.byId.set(session.id, session);
  }
  async find(id: string) {
    return this.byId.get(id);
  }
  async delete(id: string) {
    this.byId.delete(id);
  }
}

const issued: Parameters<TokenIssuerPort['issue']>[0][] = [];
const issuer: TokenIssuerPort = {
  issue: async (request) => {
    issued.push(request);
    return `token-for-${request.subject}`;
  },
};

const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
  KAFKA_BROKERS: '127.0.0.1:9092',
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  AUTH_JWKS_FILE: '/keys/jwks.json',
  PAGE_TOKEN_SECRET_FILE: '/keys/secret',
  CONSOLE_DEV_SIGN_IN: 'true',
  CONSOLE_DEV_SIGNING_KEY_FILE: '/keys/dev-signing-key.json',
  CONSOLE_SESSION_TTL_SECONDS: '3600',
  ...overrides,
});
const config = (overrides: Record<string, string> = {}) =>
  consoleConfigSchema.parse(env(overrides));

async function sessionsService(overrides: Record<string, string> = {}) {
  const store = new InMemorySessions();
  const made = await newTestService(SessionsService, {
    fakes: [
      [SESSION_REPOSITORY, store],
      [TOKEN_ISSUER, issuer],
    ],
    providers: [{ provide: CONFIG, useValue: config(overrides) }],
  });
  return { ...made, store };
}

describe('SessionsService', () => {
  beforeEach(() => issued.splice(0));

  it('opens a session holding the user’s token, stored under the hash of the cookie', async () => {
    const { sut, store, clock } = await sessionsService();
    const { cookieValue, session } = await sut.signInForDevelopment({
      user: 'ann',
      groups: ['marketing', 'marketing', 'profile-readers'],
    });
    expect(cookieValue).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session).toMatchObject({
      subject: 'ann',
      groups: ['marketing', 'profile-readers'],
      token: 'token-for-ann',
      expiresAt: new Date(clock.now().getTime() + 3600_000),
    });
    expect([...store.byId.keys()]).toEqual([sessionIdOf(cookieValue)]);
    expect(store.byId.has(cookieValue)).toBe(false);
    expect(issued).toEqual([
      {
        subject: 'ann',
        groups: ['marketing', 'marketing', 'profile-readers'],
        ttlSeconds: 3600,
        now: clock.now(),
      },
    ]);
  });

  it('never issues a token that lives longer than the services accept', async () => {
    const { sut } = await sessionsService({
      CONSOLE_SESSION_TTL_SECONDS: '86400',
      AUTH_MAX_TOKEN_LIFETIME_SECONDS: '600',
    });
    await sut.signInForDevelopment({ user: 'ann', groups: [] });
    expect(issued[0]?.ttlSeconds).toBe(600);
  });

  it('finds the session behind a cookie until it expires, then forgets it', async () => {
    const { sut, store, clock } = await sessionsService();
    const { cookieValue } = await sut.signInForDevelopment({ user: 'ann', groups: [] });
    expect((await sut.resolve(cookieValue))?.subject).toBe('ann');
    expect(await sut.resolve('another-cookie')).toBeUndefined();
    expect(await sut.resolve(undefined)).toBeUndefined();
    clock.advance(3600_000);
    expect(await sut.resolve(cookieValue)).toBeUndefined();
    expect(store.byId.size).toBe(0);
  });

  it('ends the session on sign-out', async () => {
    const { sut } = await sessionsService();
    const { cookieValue } = await sut.signInForDevelopment({ user: 'ann', groups: [] });
    await sut.signOut(cookieValue);
    expect(await sut.resolve(cookieValue)).toBeUndefined();
  });

  it('refuses the development sign-in when it is not enabled', async () => {
    const { sut } = await sessionsService({ CONSOLE_DEV_SIGN_IN: 'false' });
    await expect(sut.signInForDevelopment({ user: 'ann', groups: [] })).rejects.toMatchObject({
      reason: 'DEV_SIGN_IN_OFF',
    });
    expect(issued).toEqual([]);
  });

  it.each([
    ['an empty user name', { user: '', groups: [] }, 'user'],
    ['a user name with spaces', { user: 'ann smith', groups: [] }, 'user'],
    ['a service subject', { user: 'service:membership', groups: [] }, 'user'],
    ['groups that are not a list', { user: 'ann', groups: 'marketing' }, 'groups'],
    ['an odd group', { user: 'ann', groups: ['<script>'] }, 'groups'],
    [
      'too many groups',
      { user: 'ann', groups: Array.from({ length: 21 }, (_, i) => `g${i}`) },
      'groups',
    ],
  ])('refuses %s, naming the field', async (_, form, field) => {
    const { sut } = await sessionsService();
    await expect(sut.signInForDevelopment(form)).rejects.toMatchObject({
      violations: [expect.objectContaining({ field })],
    });
  });
});

describe('SessionsService with an identity provider', () => {
  it('keeps the provider’s token and ends the session when the token expires', async () => {
    const { sut, clock } = await sessionsService();
    const { session } = await sut.signInWithProvider({
      subject: 'olga',
      groups: ['marketing', 'marketing'],
      token: 'provider-access-token',
      tokenTtlSeconds: 300,
    });
    expect(session).toMatchObject({
      subject: 'olga',
      groups: ['marketing'],
      token: 'provider-access-token',
    });
    expect(session.expiresAt.getTime() - clock.now().getTime()).toBe(300_000);
  });

  it('ends the session at CONSOLE_SESSION_TTL_SECONDS when the token outlives it', async () => {
    const { sut, clock } = await sessionsService();
    const { session } = await sut.signInWithProvider({
      subject: 'olga',
      groups: [],
      token: 't',
      tokenTtlSeconds: 86_400,
    });
    expect(session.expiresAt.getTime() - clock.now().getTime()).toBe(3_600_000);
  });

  it.each([
    ['no subject', { subject: '', groups: [], token: 't' }],
    ['an expired token', { subject: 'olga', groups: [], token: 't', tokenTtlSeconds: 0 }],
  ])('refuses %s', async (_, signIn) => {
    const { sut } = await sessionsService();
    await expect(sut.signInWithProvider(signIn)).rejects.toMatchObject({
      reason: 'SIGN_IN_REFUSED',
    });
  });
});

describe('the console configuration', () => {
  it('needs the client id, secret file and redirect URL with an OpenID Connect issuer', () => {
    const result = consoleConfigSchema.safeParse(
      env({ CONSOLE_OIDC_ISSUER_URL: 'https://id.example.com' }),
    );
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'CONSOLE_OIDC_CLIENT_ID',
      'CONSOLE_OIDC_CLIENT_SECRET_FILE',
      'CONSOLE_OIDC_REDIRECT_URL',
    ]);
  });

  it('refuses the development sign-in in production', () => {
    const result = consoleConfigSchema.safeParse(env({ SHOAL_ENV: 'production' }));
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain('CONSOLE_DEV_SIGN_IN');
  });

  it('needs the signing key when the development sign-in is on', () => {
    const { CONSOLE_DEV_SIGNING_KEY_FILE: _, ...rest } = env();
    const result = consoleConfigSchema.safeParse(rest);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'CONSOLE_DEV_SIGNING_KEY_FILE',
    ]);
  });
});
