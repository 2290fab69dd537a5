import { createHash, randomBytes } from 'node:crypto';

/** The parts of an OpenID Provider's discovery document the sign-in uses. */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

/** A sign-in under way: what the callback must match, kept in a short-lived HttpOnly cookie. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

const random = () => randomBytes(32).toString('base64url');

/** Fresh state, nonce and PKCE verifier for one sign-in. */
export function newPendingSignIn(): PendingSignIn {
  return { state: random(), nonce: random(), verifier: random() };
}

/** The PKCE S256 challenge of a verifier (RFC 7636). */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Where the browser is sent to sign in: the code flow with PKCE, state and nonce. */
export function authorizationUrl({
  provider,
  clientId,
  redirectUrl,
  scopes,
  pending,
}: {
  provider: ProviderMetadata;
  clientId: string;
  redirectUrl: string;
  scopes: string;
  pending: PendingSignIn;
}): string {
  const url = new URL(provider.authorization_endpoint);
  const scope = new Set(['openid', ...scopes.split(' ').filter(Boolean)]);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', redirectUrl);
  url.searchParams.set('scope', [...scope].join(' '));
  url.searchParams.set('state', pending.state);
  url.searchParams.set('nonce', pending.nonce);
  url.searchParams.set('code_challenge', codeChallenge(pending.verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

const PART = /^[A-Za-z0-9_-]{43}$/;

export function encodePending(pending: PendingSignIn): string {
  return [pending.state, pending.nonce, pending.verifier].join('.');
}

/** The pending sign-in a cookie holds, or undefined when it is not one. */
export function decodePending(value: string | undefined): PendingSignIn | undefined {
  const parts = (value ?? '').split('.');
  if (parts.length !== 3 || !parts.every((p) => PART.test(p))) return undefined;
  const [state, nonce, verifier] = parts as [string, string, string];
  return { state, nonce, verifier };
}

/** The metadata a discovery document must give, for the issuer it must name. */
export function providerMetadata(document: unknown, issuer: string): ProviderMetadata {
  const d = (document ?? {}) as Record<string, unknown>;
  const missing = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'].filter(
    (k) => typeof d[k] !== 'string' || d[k] === '',
  );
  if (missing.length > 0) throw new Error(`the discovery document lacks ${missing.join(', ')}`);
  if (d['issuer'] !== issuer)
    throw new Error(`the discovery document names issuer ${String(d['issuer'])}, not ${issuer}`);
  return d as unknown as ProviderMetadata;
}
