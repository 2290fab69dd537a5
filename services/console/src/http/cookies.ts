import type { IncomingMessage } from 'node:http';

/**
 * The session cookie. With TLS it takes the `__Host-` prefix, which browsers accept only when
 * Secure, for this host alone and path `/`.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-shoal_session' : 'shoal_session';
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it). */
export function sessionCookie(
  name: string,
  value: string,
  { secure, maxAgeSeconds }: { secure: boolean; maxAgeSeconds: number },
): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The cookie holding a sign-in under way (state, nonce, PKCE verifier) until the callback. */
export function pendingSignInCookieName(secure: boolean): string {
  return secure ? '__Secure-shoal_sign_in' : 'shoal_sign_in';
}

/** How long a browser has to come back from the identity provider. */
export const PENDING_SIGN_IN_SECONDS = 600;

/**
 * SameSite=Lax, unlike the session cookie: the identity provider's redirect back is a
 * cross-site navigation, which a Strict cookie would not accompany. Only the callback sees it.
 */
export function pendingSignInCookie(
  name: string,
  value: string,
  { secure, maxAgeSeconds = PENDING_SIGN_IN_SECONDS }: { secure: boolean; maxAgeSeconds?: number },
): string {
  return [
    `${name}=${value}`,
    'Path=/auth/oidc/callback',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
