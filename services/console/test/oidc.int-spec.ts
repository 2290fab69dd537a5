import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentKind, SegmentService, Visibility } from '@shoal/contracts';
import {
  type LaunchedProcess,
  TestScope,
  eventually,
  freePort,
  repoRoot,
  startServiceProcess,
} from '@shoal/testing';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { chromium } from 'playwright-core';
import { ConsoleHttpServer } from '../src/http/console-http.server';
import { consoleService } from '../src/service';
import { debianChromium } from './chromium';
import { sessionClient } from './session-client';

jest.setTimeout(180_000);

const CLIENT_ID = 'shoal-console';
const SCREENSHOTS = process.env.SHOAL_SCREENSHOT_DIR ?? join(repoRoot, '.shoal', 'screenshots');
const CLIENT_SECRET = randomBytes(24).toString('base64url');

/**
 * The smallest OpenID Provider the code flow needs, on 127.0.0.1: discovery, keys, an
 * authorization endpoint that signs `user` in at once, and a token endpoint that checks the
 * client secret, the code, the redirect URL and the PKCE verifier before it issues tokens.
 */
async function startProvider(user: { sub: string; groups: string[] }) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-idp', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { challenge: string; nonce: string; redirectUri: string }>();
  let issuer = '';
  /** The next authorization is declined, as when the user refuses consent. */
  const control = { refuseNext: false };
  const sign = (claims: Record<string, unknown>, audience: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'test-idp' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(user.sub)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/.well-known/openid-configuration')
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
      });
    if (url.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      if (
        q.get('client_id') !== CLIENT_ID ||
        q.get('response_type') !== 'code' ||
        q.get('code_challenge_method') !== 'S256' ||
        !q.get('scope')?.split(' ').includes('openid')
      )
        return json(res, 400, { error: 'invalid_request' });
      if (control.refuseNext) {
        control.refuseNext = false;
        const declined = new URL(q.get('redirect_uri') ?? '');
        declined.searchParams.set('error', 'access_denied');
        declined.searchParams.set('state', q.get('state') ?? '');
        return res.writeHead(302, { location: declined.toString() }).end();
      }
      const code = randomBytes(16).toString('hex');
      codes.set(code, {
        challenge: q.get('code_challenge') ?? '',
        nonce: q.get('nonce') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
      });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      return res.writeHead(302, { location: back.toString() }).end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const part of req) body += String(part);
      const form = new URLSearchParams(body);
      const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
      if (req.headers.authorization !== basic) return json(res, 401, { error: 'invalid_client' });
      const issued = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !issued ||
        form.get('grant_type') !== 'authorization_code' ||
        form.get('redirect_uri') !== issued.redirectUri ||
        createHash('sha256').update(verifier).digest('base64url') !== issued.challenge
      )
        return json(res, 400, { error: 'invalid_grant' });
      return json(res, 200, {
        token_type: 'Bearer',
        expires_in: 300,
        access_token: await sign({ groups: user.groups }, 'shoal'),
        id_token: await sign({ groups: user.groups, nonce: issued.nonce }, CLIENT_ID),
      });
    }
    return json(res, 404, { error: 'not_found' });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => json(res, 500, { error: 'server_error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // another site than the console's 127.0.0.1, so the browser treats the return as cross-site
  issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  return { issuer, server, control };
}

/** Where a refused callback sends the browser back to: the sign-in page, with the reason. */
function refusal(response: Response): string | null {
  expect(response.status).toBe(303);
  const location = new URL(response.headers.get('location') ?? '', 'http://console');
  expect(location.pathname).toBe('/');
  return location.searchParams.get('sign_in_error');
}

/** The cookies a response sets, as a Cookie header would send them back, by name. */
function setCookies(response: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0] ?? '';
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return cookies;
}

describe('sign-in through an OpenID Connect provider', () => {
  const scope = new TestScope();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-console-oidc-'));
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let segments: LaunchedProcess | undefined;
  let base = '';

  beforeAll(async () => {
    provider = await startProvider({ sub: 'olga', groups: ['marketing'] });
    const secretFile = join(dir, 'client-secret');
    writeFileSync(secretFile, `${CLIENT_SECRET}\n`);
    const grpcPort = await freePort();
    // the segments service trusts the provider's tokens, as the README tells operators to set up
    const env = scope.env('segments', {
      AUTH_ISSUER: provider.issuer,
      AUTH_JWKS_URL: `${provider.issuer}/jwks`,
      AUTH_JWKS_FILE: undefined,
    });
    segments = await startServiceProcess({
      name: 'segments',
      env,
      grpcPort,
      httpPort: await freePort(),
      logFile: join(dir, 'segments.log'),
    });
    const consolePort = await freePort();
    base = `http://127.0.0.1:${consolePort}`;
    const running = await scope.start(consoleService, {
      CONSOLE_PORT: String(consolePort),
      CONSOLE_OIDC_ISSUER_URL: provider.issuer,
      CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
      CONSOLE_OIDC_CLIENT_SECRET_FILE: secretFile,
      CONSOLE_OIDC_REDIRECT_URL: `${base}/auth/oidc/callback`,
      CONSOLE_SEGMENTS_ADDRESS: `127.0.0.1:${grpcPort}`,
    });
    expect(running.app.get(ConsoleHttpServer).port).toBe(consolePort);
  });

  afterAll(async () => {
    await scope.close();
    await segments?.kill('SIGKILL');
    provider.server.closeAllConnections();
    await new Promise<void>((resolve) => provider.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The browser's trip to the provider and back, up to the console's callback URL. */
  async function toCallback(): Promise<{ callback: string; pending: string }> {
    const start = await fetch(`${base}/auth/oidc/start`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const [pendingCookie] = start.headers.getSetCookie();
    expect(pendingCookie).toMatch(/HttpOnly/);
    expect(pendingCookie).toMatch(/SameSite=Lax/);
    expect(pendingCookie).toMatch(/Path=\/auth\/oidc\/callback/);
    const authorize = await fetch(start.headers.get('location') ?? '', { redirect: 'manual' });
    expect(authorize.status).toBe(302);
    return {
      callback: authorize.headers.get('location') ?? '',
      pending: `shoal_sign_in=${setCookies(start).get('shoal_sign_in')}`,
    };
  }

  it('offers the sign-in and opens a session whose calls carry the provider’s token', async () => {
    const before = (await (await fetch(`${base}/auth/session`)).json()) as Record<string, unknown>;
    expect(before).toMatchObject({ signedIn: false, oidcSignIn: true, devSignIn: false });

    const { callback, pending } = await toCallback();
    expect(callback.startsWith(`${base}/auth/oidc/callback?`)).toBe(true);
    const back = await fetch(callback, { redirect: 'manual', headers: { cookie: pending } });
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/');
    const cookies = setCookies(back);
    expect(cookies.get('shoal_sign_in')).toBe('');
    const session = `shoal_session=${cookies.get('shoal_session')}`;

    const after = await (
      await fetch(`${base}/auth/session`, { headers: { cookie: session } })
    ).json();
    expect(after).toMatchObject({ signedIn: true, user: 'olga', groups: ['marketing'] });

    const client = sessionClient(SegmentService, { base, session });
    const { segment } = await client.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Olga’s list', visibility: Visibility.PRIVATE },
    });
    expect(segment?.owner).toBe('olga');
  });

  it('refuses a callback whose state is not the one this browser started', async () => {
    const { callback, pending } = await toCallback();
    const forged = new URL(callback);
    forged.searchParams.set('state', randomBytes(32).toString('base64url'));
    const refused = await fetch(forged, { redirect: 'manual', headers: { cookie: pending } });
    expect(refusal(refused)).toContain('does not match the one this browser started');
    expect(setCookies(refused).has('shoal_session')).toBe(false);
    expect(setCookies(refused).get('shoal_sign_in')).toBe('');
  });

  it('refuses a callback from a browser that started no sign-in', async () => {
    const { callback } = await toCallback();
    const refused = await fetch(callback, { redirect: 'manual' });
    expect(refusal(refused)).toContain('sign-in refused');
    expect(setCookies(refused).has('shoal_session')).toBe(false);
  });

  it('refuses a code whose verifier the provider cannot match (a code used twice)', async () => {
    const { callback, pending } = await toCallback();
    const first = await fetch(callback, { redirect: 'manual', headers: { cookie: pending } });
    expect(first.status).toBe(303);
    const again = await fetch(callback, { redirect: 'manual', headers: { cookie: pending } });
    expect(refusal(again)).toContain('invalid_grant');
    expect(setCookies(again).has('shoal_session')).toBe(false);
  });

  it('brings a browser whose sign-in the provider declined back to the sign-in page with the reason', async () => {
    const browser = await chromium.launch({
      executablePath: debianChromium(),
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(base);
      provider.control.refuseNext = true;
      await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toContain('the identity provider answered access_denied');
      expect(new URL(page.url()).search).toBe('');
      expect(
        await page.getByRole('link', { name: 'Sign in with your identity provider' }).count(),
      ).toBe(1);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'oidc-declined.png') });
    } finally {
      await browser.close();
    }
  });

  it('signs a user in through the provider in a real browser and shows what they may see', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const browser = await chromium.launch({
      executablePath: debianChromium(),
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(base);
      await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
      const user = page.getByTestId('signed-in-user');
      await user.waitFor();
      expect(await user.textContent()).toBe('olga');
      const table = page.getByRole('table', { name: 'Segments' });
      await eventually(
        async () => expect(await table.textContent()).toContain('Olga’s list'),
        30_000,
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'oidc-signed-in.png') });
    } finally {
      await browser.close();
    }
  });
});
