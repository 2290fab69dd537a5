import type { ServerResponse } from 'node:http';
import { DomainError, ErrorKind } from '@shoal/platform';

const STATUS: Record<ErrorKind, number> = {
  [ErrorKind.InvalidArgument]: 400,
  [ErrorKind.NotFound]: 404,
  [ErrorKind.AlreadyExists]: 409,
  [ErrorKind.FailedPrecondition]: 412,
  [ErrorKind.Aborted]: 409,
  [ErrorKind.PermissionDenied]: 403,
  [ErrorKind.Unauthenticated]: 401,
  [ErrorKind.ResourceExhausted]: 429,
  [ErrorKind.Unavailable]: 503,
  [ErrorKind.Internal]: 500,
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** A refusal of the console's own HTTP routes (sign-in, downloads): status and reason as JSON. */
export function sendError(res: ServerResponse, error: unknown): boolean {
  if (!(error instanceof DomainError)) return false;
  sendJson(res, STATUS[error.kind], {
    reason: error.reason,
    message: error.message,
    violations: error.violations,
  });
  return true;
}
