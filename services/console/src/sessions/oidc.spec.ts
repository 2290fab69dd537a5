import { createHash } from 'node:crypto';
import {
  authorizationUrl,
  codeChallenge,
  decodePending,
  encodePending,
  newPendingSignIn,
  providerMetadata,
} from './oidc';

const provider = {
  issuer: 'https://id.example.com',
  authorization_endpoint: 'https://id.example.com/authorize?tenant=a',
  token_endpoint: 'https://id.example.com/token',
  jwks_uri: 'https://id.example.com/jwks',
};

describe('the OpenID Connect sign-in', () => {
  it('sends the code flow with an S256 challenge of the verifier, state and nonce', () => {
    const pending = newPendingSignIn();
    const url = new URL(
      authorizationUrl({
        provider,
        clientId: 'shoal-console',
        redirectUrl: 'https://console.example.com/auth/oidc/callback',
        scopes: 'profile groups',
        pending,
      }),
    );
    expect(url.origin + url.pathname).toBe('https://id.example.com/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 'a',
      response_type: 'code',
      client_id: 'shoal-console',
      redirect_uri: 'https://console.example.com/auth/oidc/callback',
      scope: 'openid profile groups',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: createHash('sha256').update(pending.verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
  });

  it('computes the RFC 7636 example challenge', () => {
    expect(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('starts every sign-in with fresh, unguessable values', () => {
    const a = newPendingSignIn();
    const b = newPendingSignIn();
    expect(new Set([a.state, a.nonce, a.verifier, b.state, b.nonce, b.verifier]).size).toBe(6);
    expect(a.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('keeps a pending sign-in in a cookie value and refuses anything else', () => {
    const pending = newPendingSignIn();
    expect(decodePending(encodePending(pending))).toEqual(pending);
    for (const value of [undefined, '', 'a.b.c', `${encodePending(pending)}.x`, 'x'.repeat(131)])
      expect(decodePending(value)).toBeUndefined();
  });

  it('takes the discovery document only for the issuer configured and with its endpoints', () => {
    expect(providerMetadata(provider, 'https://id.example.com')).toEqual(provider);
    expect(() => providerMetadata(provider, 'https://other.example.com')).toThrow(/not https/);
    expect(() => providerMetadata({ ...provider, jwks_uri: '' }, provider.issuer)).toThrow(
      /lacks jwks_uri/,
    );
  });
});
