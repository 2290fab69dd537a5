import { readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CONFIG, DomainError, LOGGER, Readiness } from '@shoal/platform';
import type { Logger } from 'pino';
import { SESSION_KEY, upstreamRoutes } from '../api/upstream.routes';
import type { ConsoleConfig } from '../service';
import type { ConsoleSession } from '../sessions/session';
import { decodePending, encodePending } from '../sessions/oidc';
import { OidcSignInService } from '../sessions/oidc-sign-in.service';
import { SessionErrorReason } from '../sessions/sessions.errors';
import { SessionsService } from '../sessions/sessions.service';
import {
  pendingSignInCookie,
  pendingSignInCookieName,
  readCookie,
  sessionCookie,
  sessionCookieName,
} from './cookies';
import { isSameOriginRequest } from './csrf';
import { downloadMembersCsv } from './csv-download';
import { sendError, sendJson } from './http-errors';
import { setSecurityHeaders } from './security-headers';
import { StaticFiles } from './static-files';

/** Where the build puts the web app, beside the compiled service (dist/http → web/dist). */
const BUILT_WEB_DIR = join(__dirname, '..', '..', 'web', 'dist');
const MAX_FORM_BYTES = 4096;

/**
 * The console's HTTP server: the web app's files, its sign-in routes, the Connect endpoint
 * under /api that forwards to the services, and CSV downloads. Every response carries the
 * security headers; everything that acts as the user needs the session cookie, and what
 * changes anything also the same-origin check.
 */
@Injectable()
export class ConsoleHttpServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private server?: Server;
  private readonly sessionOf = new WeakMap<IncomingMessage, ConsoleSession>();
  private readonly files: StaticFiles;
  private readonly tls: boolean;
  private readonly secureCookie: boolean;
  private readonly cookieName: string;
  port = 0;

  constructor(
    @Inject(CONFIG) private readonly config: ConsoleConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly sessions: SessionsService,
    private readonly oidc: OidcSignInService,
    private readonly readiness: Readiness,
  ) {
    this.files = new StaticFiles(config.CONSOLE_WEB_DIR ?? BUILT_WEB_DIR);
    this.tls = !!config.CONSOLE_TLS_CERT_FILE;
    this.secureCookie = this.tls || config.CONSOLE_SECURE_COOKIE;
    this.cookieName = sessionCookieName(this.secureCookie);
  }

  async onApplicationBootstrap(): Promise<void> {
    const connect = connectNodeAdapter({
      routes: upstreamRoutes(this.config),
      requestPathPrefix: '/api',
      readMaxBytes: this.config.GRPC_MAX_MESSAGE_BYTES,
      contextValues: (req) =>
        createContextValues().set(SESSION_KEY, this.sessionOf.get(req as IncomingMessage)),
    });
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res, connect).catch((error: unknown) => {
        if (sendError(res, error)) return;
        this.logger.error({ err: error, path: req.url?.split('?')[0] }, 'console request failed');
        if (!res.headersSent) sendJson(res, 500, { message: 'internal error' });
        else res.destroy();
      });
    };
    const server = this.tls
      ? createTlsServer(
          {
            cert: readFileSync(this.config.CONSOLE_TLS_CERT_FILE as string),
            key: readFileSync(this.config.CONSOLE_TLS_KEY_FILE as string),
          },
          handler,
        )
      : createServer(handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.CONSOLE_PORT, this.config.CONSOLE_HOST, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.readiness.register({
      name: 'web-app',
      check: async () => {
        await access(this.files.indexFile);
        return this.files.indexFile;
      },
    });
    this.logger.info(
      { url: `${this.tls ? 'https' : 'http'}://${this.config.CONSOLE_HOST}:${this.port}/` },
      'console listening',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    connect: (req: IncomingMessage, res: ServerResponse) => void,
  ): Promise<void> {
    setSecurityHeaders(res, this.tls);
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path.startsWith('/api/')) {
      if (method !== 'POST') return sendJson(res, 405, { message: 'POST only' });
      if (!isSameOriginRequest(req, this.tls))
        return sendJson(res, 403, { code: 'permission_denied', message: 'cross-site request' });
      const session = await this.sessions.resolve(readCookie(req, this.cookieName));
      if (!session)
        return sendJson(res, 401, { code: 'unauthenticated', message: 'sign in again' });
      this.sessionOf.set(req, session);
      res.setHeader('cache-control', 'no-store');
      return connect(req, res);
    }
    if (path === '/auth/session' && method === 'GET') {
      const session = await this.sessions.resolve(readCookie(req, this.cookieName));
      return sendJson(res, 200, {
        signedIn: !!session,
        devSignIn: this.sessions.devSignInEnabled,
        oidcSignIn: this.oidc.enabled,
        ...(session
          ? {
              user: session.subject,
              groups: session.groups,
              expiresAt: session.expiresAt.toISOString(),
            }
          : {}),
      });
    }
    if (path === '/auth/dev-sign-in' && method === 'POST') {
      if (!isSameOriginRequest(req, this.tls))
        return sendJson(res, 403, { message: 'cross-site request' });
      const form = (await readJson(req)) as { user?: unknown; groups?: unknown } | undefined;
      if (!form) return sendJson(res, 400, { message: 'a JSON body {user, groups} is expected' });
      const { cookieValue, session } = await this.sessions.signInForDevelopment({
        user: form.user,
        groups: form.groups,
      });
      this.logger.info({ user: session.subject, groups: session.groups }, 'development sign-in');
      res.setHeader(
        'set-cookie',
        sessionCookie(this.cookieName, cookieValue, {
          secure: this.secureCookie,
          maxAgeSeconds: (session.expiresAt.getTime() - session.createdAt.getTime()) / 1000,
        }),
      );
      return sendJson(res, 200, { user: session.subject, groups: session.groups });
    }
    if (path === '/auth/oidc/start' && method === 'GET' && this.oidc.enabled) {
      const started = await this.oidc.start().catch((error: unknown) => {
        if (!isSignInFailure(error)) throw error;
        return error;
      });
      if (started instanceof DomainError) return this.backToSignIn(res, started);
      const { url: target, pending } = started;
      res.setHeader(
        'set-cookie',
        pendingSignInCookie(pendingSignInCookieName(this.secureCookie), encodePending(pending), {
          secure: this.secureCookie,
        }),
      );
      res.writeHead(302, { location: target, 'cache-control': 'no-store' }).end();
      return;
    }
    if (path === '/auth/oidc/callback' && method === 'GET' && this.oidc.enabled) {
      const pendingName = pendingSignInCookieName(this.secureCookie);
      const signedIn = await this.oidc
        .finish({ query: url.searchParams, pending: decodePending(readCookie(req, pendingName)) })
        .catch((error: unknown) => {
          if (!isSignInFailure(error)) throw error;
          return error;
        });
      if (signedIn instanceof DomainError) return this.backToSignIn(res, signedIn);
      const { cookieValue, session } = signedIn;
      this.logger.info({ user: session.subject, groups: session.groups }, 'signed in');
      res.setHeader('set-cookie', [
        sessionCookie(this.cookieName, cookieValue, {
          secure: this.secureCookie,
          maxAgeSeconds: (session.expiresAt.getTime() - session.createdAt.getTime()) / 1000,
        }),
        pendingSignInCookie(pendingName, '', { secure: this.secureCookie, maxAgeSeconds: 0 }),
      ]);
      res.writeHead(303, { location: '/', 'cache-control': 'no-store' }).end();
      return;
    }
    if (path === '/auth/sign-out' && method === 'POST') {
      if (!isSameOriginRequest(req, this.tls))
        return sendJson(res, 403, { message: 'cross-site request' });
      await this.sessions.signOut(readCookie(req, this.cookieName));
      res.setHeader(
        'set-cookie',
        sessionCookie(this.cookieName, '', { secure: this.secureCookie, maxAgeSeconds: 0 }),
      );
      res.writeHead(204).end();
      return;
    }
    if (path.startsWith('/download/') && method === 'GET') {
      const session = await this.sessions.resolve(readCookie(req, this.cookieName));
      if (!session) return sendJson(res, 401, { message: 'sign in again' });
      return downloadMembersCsv(req, res, url, session, this.config.CONSOLE_EXPORTER_DOWNLOAD_URL);
    }
    if (path.startsWith('/auth/')) return sendJson(res, 405, { message: 'method not allowed' });
    if (method === 'GET' || method === 'HEAD')
      return this.files.serve(path, res, method === 'HEAD');
    return sendJson(res, 405, { message: 'method not allowed' });
  }

  /**
   * A browser whose sign-in through the identity provider was refused, or could not reach it,
   * goes back to the sign-in page with the reason (the page shows it), its pending sign-in
   * forgotten: these routes are navigations, where a JSON error would be a dead end.
   */
  private backToSignIn(res: ServerResponse, error: DomainError): void {
    this.logger.warn({ reason: error.reason, message: error.message }, 'sign-in failed');
    res.setHeader(
      'set-cookie',
      pendingSignInCookie(pendingSignInCookieName(this.secureCookie), '', {
        secure: this.secureCookie,
        maxAgeSeconds: 0,
      }),
    );
    const query = new URLSearchParams({
      [SIGN_IN_ERROR_PARAM]: error.message.slice(0, MAX_SIGN_IN_ERROR_CHARS),
    });
    res.writeHead(303, { location: `/?${query.toString()}`, 'cache-control': 'no-store' }).end();
  }
}

/** The query parameter of the sign-in page that carries why a sign-in failed. */
const SIGN_IN_ERROR_PARAM = 'sign_in_error';
const MAX_SIGN_IN_ERROR_CHARS = 300;

/** A refusal or an unreachable provider: shown to the user, not a fault of the console. */
function isSignInFailure(error: unknown): error is DomainError {
  return (
    error instanceof DomainError &&
    (error.reason === SessionErrorReason.SignInRefused ||
      error.reason === SessionErrorReason.ProviderUnavailable)
  );
}

/** A small JSON body, or undefined when it is not one. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_FORM_BYTES) return undefined;
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    return undefined;
  }
}
