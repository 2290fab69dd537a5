import { Code, ConnectError, decodeBinaryHeader } from '@connectrpc/connect';
import { ErrorDetailsSchema } from '@shoal/contracts';
import { DomainError, ERROR_DETAILS_TRAILER, ErrorKind } from '@shoal/platform';

const CODES: Record<ErrorKind, Code> = {
  [ErrorKind.InvalidArgument]: Code.InvalidArgument,
  [ErrorKind.NotFound]: Code.NotFound,
  [ErrorKind.AlreadyExists]: Code.AlreadyExists,
  [ErrorKind.FailedPrecondition]: Code.FailedPrecondition,
  [ErrorKind.Aborted]: Code.Aborted,
  [ErrorKind.PermissionDenied]: Code.PermissionDenied,
  [ErrorKind.Unauthenticated]: Code.Unauthenticated,
  [ErrorKind.ResourceExhausted]: Code.ResourceExhausted,
  [ErrorKind.Unavailable]: Code.Unavailable,
  [ErrorKind.Internal]: Code.Internal,
};

/**
 * An error as the browser gets it over Connect. A service's error keeps its code and message,
 * and Shoal's ErrorDetails (reason and field violations), which travel in a trailer over gRPC,
 * become a Connect error detail the web app reads with `findDetails(ErrorDetailsSchema)`. The
 * console's own DomainErrors map by kind; anything else is INTERNAL without its cause.
 */
export function toBrowserError(error: unknown): ConnectError {
  if (error instanceof DomainError) {
    return new ConnectError(error.message, CODES[error.kind], undefined, [
      {
        desc: ErrorDetailsSchema,
        value: { reason: error.reason, violations: [...error.violations] },
      },
    ]);
  }
  if (!(error instanceof ConnectError)) return new ConnectError('internal error', Code.Internal);
  const encoded = error.metadata.get(ERROR_DETAILS_TRAILER);
  if (!encoded) return new ConnectError(error.rawMessage, error.code);
  const details = decodeBinaryHeader(encoded, ErrorDetailsSchema);
  return new ConnectError(error.rawMessage, error.code, undefined, [
    { desc: ErrorDetailsSchema, value: details },
  ]);
}
