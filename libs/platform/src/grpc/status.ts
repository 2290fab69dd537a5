import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { ErrorDetailsSchema } from '@shoal/contracts';
import { DomainError, ErrorKind, type FieldViolation } from '../errors/domain-error';

/** Trailer carrying ErrorDetails (reason + field violations) on every failed call. */
export const ERROR_DETAILS_TRAILER = 'shoal-error-details-bin';

const STATUS_OF_KIND: Record<ErrorKind, status> = {
  [ErrorKind.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorKind.NotFound]: status.NOT_FOUND,
  [ErrorKind.AlreadyExists]: status.ALREADY_EXISTS,
  [ErrorKind.FailedPrecondition]: status.FAILED_PRECONDITION,
  [ErrorKind.Aborted]: status.ABORTED,
  [ErrorKind.PermissionDenied]: status.PERMISSION_DENIED,
  [ErrorKind.Unauthenticated]: status.UNAUTHENTICATED,
  [ErrorKind.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [ErrorKind.Unavailable]: status.UNAVAILABLE,
  [ErrorKind.Internal]: status.INTERNAL,
};

export type GrpcFailure = Partial<ServiceError> & {
  code: status;
  details: string;
  metadata: Metadata;
};

/**
 * The single translation of errors into gRPC statuses. Domain errors keep their message and
 * details; anything else is INTERNAL with a generic message (the cause goes to the log only).
 */
export function toGrpcFailure(error: unknown): GrpcFailure {
  const metadata = new Metadata();
  if (error instanceof DomainError) {
    metadata.set(
      ERROR_DETAILS_TRAILER,
      Buffer.from(
        toBinary(
          ErrorDetailsSchema,
          create(ErrorDetailsSchema, { reason: error.reason, violations: [...error.violations] }),
        ),
      ),
    );
    return { code: STATUS_OF_KIND[error.kind], details: error.message, metadata };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata };
}

/** A failed call as a client sees it, with Shoal's details decoded. */
export class GrpcCallError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
    readonly reason: string,
    readonly violations: readonly FieldViolation[],
  ) {
    super(`${status[code] ?? code}: ${details}`);
    this.name = 'GrpcCallError';
  }

  static from(error: ServiceError): GrpcCallError {
    const raw = error.metadata?.get(ERROR_DETAILS_TRAILER)[0];
    let reason = '';
    let violations: FieldViolation[] = [];
    if (raw instanceof Buffer) {
      const decoded = fromBinary(ErrorDetailsSchema, raw);
      reason = decoded.reason;
      violations = decoded.violations.map((v) => ({ field: v.field, description: v.description }));
    }
    return new GrpcCallError(error.code, error.details, reason, violations);
  }
}
