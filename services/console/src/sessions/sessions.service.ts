import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock, CONFIG } from '@shoal/platform';
import type { ConsoleConfig } from '../service';
import type { ConsoleSession } from './session';
import { SessionError } from './sessions.errors';
import { SESSION_REPOSITORY, type SessionRepositoryPort } from './sessions.repository.port';
import { TOKEN_ISSUER, type TokenIssuerPort } from './token-issuer.port';

/** A user name or group: what identity providers put in `sub` and `groups`, nothing odd. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const MAX_GROUPS = 20;

/** What the browser is given on sign-in: the cookie's value and the session it opens. */
export interface SignedIn {
  readonly cookieValue: string;
  readonly session: ConsoleSession;
}

export const sessionIdOf = (cookieValue: string) =>
  createHash('sha256').update(cookieValue).digest('base64url');

/** Sign-in, the session behind a cookie, sign-out. */
@Injectable()
export class SessionsService {
  constructor(
    @Inject(SESSION_REPOSITORY) private readonly sessions: SessionRepositoryPort,
    @Inject(TOKEN_ISSUER) private readonly issuer: TokenIssuerPort,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: ConsoleConfig,
  ) {}

  get devSignInEnabled(): boolean {
    return this.config.CONSOLE_DEV_SIGN_IN;
  }

  /** The development sign-in: whoever the form names, with the groups it names. */
  async signInForDevelopment({
    user,
    groups,
  }: {
    user: unknown;
    groups: unknown;
  }): Promise<SignedIn> {
    if (!this.devSignInEnabled) throw SessionError.devSignInOff();
    if (typeof user !== 'string' || !NAME.test(user))
      throw SessionError.invalid(
        'user',
        'a user name of 1 to 64 letters, digits, ".", "_", "@" or "-"',
      );
    const groupList = groups ?? [];
    if (
      !Array.isArray(groupList) ||
      groupList.length > MAX_GROUPS ||
      !groupList.every((g): g is string => typeof g === 'string' && NAME.test(g))
    )
      throw SessionError.invalid('groups', `at most ${MAX_GROUPS} groups, each like a user name`);
    const now = this.clock.now();
    const ttlSeconds = Math.min(
      this.config.CONSOLE_SESSION_TTL_SECONDS,
      this.config.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    );
    const token = await this.issuer.issue({ subject: user, groups: groupList, ttlSeconds, now });
    return this.open({ subject: user, groups: [...new Set(groupList)], token, now, ttlSeconds });
  }

  /**
   * A sign-in through the identity provider: the session carries the provider's access token
   * and ends no later than it does.
   */
  async signInWithProvider({
    subject,
    groups,
    token,
    tokenTtlSeconds,
  }: {
    subject: string;
    groups: readonly string[];
    token: string;
    tokenTtlSeconds?: number;
  }): Promise<SignedIn> {
    if (subject === '' || subject.length > 256)
      throw SessionError.signInRefused('the ID token names no usable subject');
    const ttlSeconds = Math.min(
      this.config.CONSOLE_SESSION_TTL_SECONDS,
      tokenTtlSeconds ?? this.config.CONSOLE_SESSION_TTL_SECONDS,
    );
    if (ttlSeconds <= 0) throw SessionError.signInRefused('the access token has expired');
    return this.open({
      subject,
      groups: [...new Set(groups)].slice(0, MAX_GROUPS),
      token,
      now: this.clock.now(),
      ttlSeconds,
    });
  }

  /** The session a cookie names, if it is still open; an expired one is removed. */
  async resolve(cookieValue: string | undefined): Promise<ConsoleSession | undefined> {
    if (!cookieValue) return undefined;
    const id = sessionIdOf(cookieValue);
    const session = await this.sessions.find(id);
    if (!session) return undefined;
    if (session.expiresAt.getTime() <= this.clock.now().getTime()) {
      await this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  async signOut(cookieValue: string | undefined): Promise<void> {
    if (cookieValue) await this.sessions.delete(sessionIdOf(cookieValue));
  }

  private async open({
    subject,
    groups,
    token,
    now,
    ttlSeconds,
  }: {
    subject: string;
    groups: readonly string[];
    token: string;
    now: Date;
    ttlSeconds: number;
  }): Promise<SignedIn> {
    const cookieValue = randomBytes(32).toString('base64url');
    const session: ConsoleSession = {
      id: sessionIdOf(cookieValue),
      subject,
      groups,
      token,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
    };
    await this.sessions.save(session);
    return { cookieValue, session };
  }
}
