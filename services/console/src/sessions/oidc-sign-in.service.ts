import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock, CONFIG } from '@shoal/platform';
import { type JWTVerifyGetKey, createRemoteJWKSet, jwtVerify } from 'jose';
import type { ConsoleConfig } from '../service';
import {
  type PendingSignIn,
  type ProviderMetadata,
  authorizationUrl,
  newPendingSignIn,
  providerMetadata,
} from './oidc';
import { SessionError } from './sessions.errors';
import { type SignedIn, SessionsService } from './sessions.service';

/** How long a token endpoint or discovery request may take. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Sign-in through the OpenID Connect provider the services trust: the authorization code flow
 * with PKCE, run on the server. The access token the provider issues is the one forwarded to
 * the services, so they must trust this issuer (AUTH_ISSUER, AUTH_JWKS_URL, AUTH_AUDIENCE).
 */
@Injectable()
export class OidcSignInService {
  private provider?: Promise<{ metadata: ProviderMetadata; keys: JWTVerifyGetKey }>;

  constructor(
    @Inject(CONFIG) private readonly config: ConsoleConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly sessions: SessionsService,
  ) {}

  get enabled(): boolean {
    return !!this.config.CONSOLE_OIDC_ISSUER_URL;
  }

  /** Where to send the browser, and what its callback must match. */
  async start(): Promise<{ url: string; pending: PendingSignIn }> {
    const { metadata } = await this.discovered();
    const pending = newPendingSignIn();
    return {
      pending,
      url: authorizationUrl({
        provider: metadata,
        clientId: this.config.CONSOLE_OIDC_CLIENT_ID as string,
        redirectUrl: this.config.CONSOLE_OIDC_REDIRECT_URL as string,
        scopes: this.config.CONSOLE_OIDC_SCOPES,
        pending,
      }),
    };
  }

  /** The callback: the code exchanged for tokens, the ID token checked, a session opened. */
  async finish({
    query,
    pending,
  }: {
    query: URLSearchParams;
    pending: PendingSignIn | undefined;
  }): Promise<SignedIn> {
    const refused = query.get('error');
    if (refused)
      throw SessionError.signInRefused(`the identity provider answered ${refused.slice(0, 100)}`);
    if (!pending || query.get('state') !== pending.state)
      throw SessionError.signInRefused('the sign-in does not match the one this browser started');
    const code = query.get('code');
    if (!code) throw SessionError.signInRefused('the identity provider sent no code');
    const { metadata, keys } = await this.discovered();
    const clientId = this.config.CONSOLE_OIDC_CLIENT_ID as string;
    const secret = readFileSync(
      this.config.CONSOLE_OIDC_CLIENT_SECRET_FILE as string,
      'utf8',
    ).trim();
    const response = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${Buffer.from(
          `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`,
        ).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.config.CONSOLE_OIDC_REDIRECT_URL as string,
        code_verifier: pending.verifier,
      }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const tokens = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok || typeof tokens['access_token'] !== 'string')
      throw SessionError.signInRefused(
        `the token endpoint answered ${response.status}${typeof tokens['error'] === 'string' ? ` ${tokens['error'].slice(0, 100)}` : ''}`,
      );
    if (typeof tokens['id_token'] !== 'string')
      throw SessionError.signInRefused('the token endpoint sent no ID token');
    const { payload } = await jwtVerify(tokens['id_token'], keys, {
      issuer: metadata.issuer,
      audience: clientId,
      currentDate: this.clock.now(),
    }).catch((error: unknown) => {
      throw SessionError.signInRefused(
        `the ID token is not valid: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    if (payload.nonce !== pending.nonce)
      throw SessionError.signInRefused('the ID token is not for this sign-in (nonce)');
    const groups = payload[this.config.AUTH_GROUPS_CLAIM];
    const expiresIn = tokens['expires_in'];
    return this.sessions.signInWithProvider({
      subject: payload.sub ?? '',
      groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
      token: tokens['access_token'],
      ...(typeof expiresIn === 'number' ? { tokenTtlSeconds: expiresIn } : {}),
    });
  }

  private discovered(): Promise<{ metadata: ProviderMetadata; keys: JWTVerifyGetKey }> {
    this.provider ??= this.discover().catch((error: unknown) => {
      this.provider = undefined;
      throw SessionError.providerUnavailable(
        error instanceof Error ? error.message : String(error),
      );
    });
    return this.provider;
  }

  private async discover(): Promise<{ metadata: ProviderMetadata; keys: JWTVerifyGetKey }> {
    const issuer = this.config.CONSOLE_OIDC_ISSUER_URL as string;
    const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    const metadata = providerMetadata(await response.json(), issuer);
    return { metadata, keys: createRemoteJWKSet(new URL(metadata.jwks_uri)) };
  }
}
