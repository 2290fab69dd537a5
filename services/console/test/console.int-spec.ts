import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromJson } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ErrorDetailsSchema,
  RuleSchema,
  SegmentKind,
  SegmentService,
  Visibility,
} from '@shoal/contracts';
import {
  type LaunchedProcess,
  TestScope,
  freePort,
  startServiceProcess,
  testInfrastructure,
} from '@shoal/testing';
import { ConsoleHttpServer } from '../src/http/console-http.server';
import { consoleService } from '../src/service';
import { sessionClient } from './session-client';

jest.setTimeout(180_000);

/**
 * The console against a real segments service (a process) on real Kafka and the store: a
 * browser's view of it, through plain HTTP and a Connect client that behaves like the web app.
 */
describe('the console service', () => {
  const scope = new TestScope();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-console-'));
  const web = join(dir, 'web');
  let segments: LaunchedProcess | undefined;
  let base = '';

  beforeAll(async () => {
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Shoal</title>');
    writeFileSync(join(web, 'assets', 'app-1234.js'), 'export {};');
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const env = scope.env('segments');
    segments = await startServiceProcess({
      name: 'segments',
      env,
      grpcPort,
      httpPort,
      logFile: join(dir, 'segments.log'),
    });
    const running = await scope.start(consoleService, {
      CONSOLE_PORT: '0',
      CONSOLE_WEB_DIR: web,
      CONSOLE_DEV_SIGN_IN: 'true',
      CONSOLE_DEV_SIGNING_KEY_FILE: testInfrastructure().keys.userSigningKeyFile,
      CONSOLE_SEGMENTS_ADDRESS: `127.0.0.1:${grpcPort}`,
    });
    base = `http://127.0.0.1:${running.app.get(ConsoleHttpServer).port}`;
  });

  afterAll(async () => {
    await scope.close();
    await segments?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const signIn = async (user: string, groups: string[] = []) => {
    const response = await fetch(`${base}/auth/dev-sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shoal-console': '1' },
      body: JSON.stringify({ user, groups }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie') ?? '';
    return { cookie, session: cookie.split(';')[0] as string };
  };

  /** The web app's client of the segments service. */
  const segmentsAs = (session: string, headers: Record<string, string> = {}) =>
    sessionClient(SegmentService, { base, session, headers });

  const refusal = async (call: Promise<unknown>): Promise<ConnectError> => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  };

  it('serves the web app with a strict content security policy, and its routes as the app', async () => {
    for (const path of ['/', '/segments/seg_1']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<title>Shoal</title>');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const asset = await fetch(`${base}/assets/app-1234.js`);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('keeps the session in an HttpOnly, SameSite=Strict cookie and says who is signed in', async () => {
    const { cookie, session } = await signIn('ann', ['marketing']);
    expect(cookie).toMatch(/^shoal_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain('Secure');
    const who = await fetch(`${base}/auth/session`, { headers: { cookie: session } });
    expect(await who.json()).toMatchObject({
      signedIn: true,
      devSignIn: true,
      user: 'ann',
      groups: ['marketing'],
    });
    const nobody = await fetch(`${base}/auth/session`);
    expect(await nobody.json()).toEqual({ signedIn: false, devSignIn: true, oidcSignIn: false });
  });

  it('refuses a sign-in or a call without the same-origin header, or from another origin', async () => {
    const form = await fetch(`${base}/auth/dev-sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'mallory' }),
    });
    expect(form.status).toBe(403);
    const { session } = await signIn('ann', ['marketing']);
    const bare = await fetch(`${base}/api/shoal.v1.SegmentService/ListSegments`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(bare.status).toBe(403);
    const elsewhere = await refusal(
      segmentsAs(session, { origin: 'https://evil.example' }).listSegments({}),
    );
    expect(elsewhere.code).toBe(Code.PermissionDenied);
    const crossSite = await refusal(
      segmentsAs(session, { 'sec-fetch-site': 'cross-site' }).listSegments({}),
    );
    expect(crossSite.code).toBe(Code.PermissionDenied);
  });

  it('answers calls without a session, or after sign-out, with UNAUTHENTICATED', async () => {
    expect((await refusal(segmentsAs('shoal_session=forged').listSegments({}))).code).toBe(
      Code.Unauthenticated,
    );
    const { session } = await signIn('ann');
    const out = await fetch(`${base}/auth/sign-out`, {
      method: 'POST',
      headers: { cookie: session, 'x-shoal-console': '1' },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await refusal(segmentsAs(session).listSegments({}))).code).toBe(Code.Unauthenticated);
  });

  it('forwards calls with the caller’s own identity: another user’s private segment stays out of sight', async () => {
    const ann = segmentsAs((await signIn('ann', ['marketing'])).session);
    const bob = segmentsAs((await signIn('bob', ['marketing'])).session);
    const { segment } = await ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Ann’s private gold customers',
        visibility: Visibility.PRIVATE,
        rule: fromJson(RuleSchema, { condition: { trait: { path: 'plan', equals: 'gold' } } }),
      },
    });
    const id = segment?.id ?? '';
    expect((await ann.getSegment({ id })).segment?.owner).toBe('ann');
    expect((await refusal(bob.getSegment({ id }))).code).toBe(Code.NotFound);
    const listed = await bob.listSegments({ search: 'Ann’s private' });
    expect(listed.segments.map((s) => s.id)).not.toContain(id);
  });

  it('passes a service’s refusal through with its code, reason and field paths', async () => {
    const ann = segmentsAs((await signIn('ann', ['marketing'])).session);
    const error = await refusal(
      ann.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Bad window',
          rule: fromJson(RuleSchema, {
            condition: { event: { name: '', count: { gte: 1 } } },
          }),
        },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    const [details] = error.findDetails(ErrorDetailsSchema);
    expect(details?.violations.map((v) => v.field)).toEqual([
      expect.stringContaining('segment.rule.condition.event.name'),
    ]);
  });

  it('forwards only the RPCs the console needs', async () => {
    const ann = segmentsAs((await signIn('ann', ['marketing'])).session);
    expect((await refusal(ann.purgeSegment({ id: 'seg_x' }))).code).toBe(Code.Unimplemented);
    expect(
      (await refusal(ann.setDestinationUsage({ segmentId: 'seg_x', destinationId: 'd' }))).code,
    ).toBe(Code.Unimplemented);
  });
});
