import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { ErrorDetailsSchema, FieldViolationSchema } from '@shoal/contracts';
import { DomainError, ErrorKind, type FieldViolation } from '../errors/domain-error';
import { storeFailureForCaller } from '../mongo/store-time-limit';

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
 * How much of an error travels back, in UTF-8 bytes. Status message and details are trailers:
 * gRPC C-core clients refuse trailers above 8 KiB, and a status too large to send leaves a
 * grpc-js caller waiting until its deadline. Messages often echo request values (an id, a
 * name), so every part is bounded here, once, whatever the handler wrote.
 */
export const ERROR_LIMITS = {
  messageBytes: 512,
  reasonBytes: 64,
  fieldBytes: 256,
  descriptionBytes: 384,
  /** The encoded ErrorDetails trailer (base64 on the wire: a third more). */
  detailsBytes: 3072,
} as const;

const TRUNCATED = '… (truncated)';

/**
 * The single translation of errors into gRPC statuses. Domain errors keep their message and
 * details, bounded by ERROR_LIMITS; a store that is unreachable or too slow is UNAVAILABLE
 * (storeFailureForCaller); anything else is INTERNAL with a generic message (the cause goes to
 * the log only).
 */
export function toGrpcFailure(failure: unknown): GrpcFailure {
  const metadata = new Metadata();
  const error = storeFailureForCaller(failure) ?? failure;
  if (error instanceof DomainError) {
    metadata.set(ERROR_DETAILS_TRAILER, Buffer.from(encodeDetails(error)));
    return {
      code: STATUS_OF_KIND[error.kind],
      details: truncateUtf8(error.message, ERROR_LIMITS.messageBytes),
      metadata,
    };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata };
}

/** ErrorDetails within ERROR_LIMITS: violations in order while they fit, then how many more. */
function encodeDetails(error: DomainError): Uint8Array {
  const details = create(ErrorDetailsSchema, {
    reason: truncateUtf8(error.reason, ERROR_LIMITS.reasonBytes),
  });
  // room for the closing "and N more problems" entry
  const budget = ERROR_LIMITS.detailsBytes - 64;
  let size = toBinary(ErrorDetailsSchema, details).length;
  for (const [index, violation] of error.violations.entries()) {
    const bounded = {
      field: truncateUtf8(violation.field, ERROR_LIMITS.fieldBytes),
      description: truncateUtf8(violation.description, ERROR_LIMITS.descriptionBytes),
    };
    // each entry: its two strings, their tags and lengths, the entry's tag and length
    const entry = Buffer.byteLength(bounded.field) + Buffer.byteLength(bounded.description) + 10;
    if (size + entry > budget) {
      const more = error.violations.length - index;
      details.violations.push(
        create(FieldViolationSchema, { description: `and ${more} more problems` }),
      );
      break;
    }
    details.violations.push(create(FieldViolationSchema, bounded));
    size += entry;
  }
  return toBinary(ErrorDetailsSchema, details);
}

/** `text` cut to at most `maxBytes` of UTF-8, between characters, marked when cut. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const budget = maxBytes - Buffer.byteLength(TRUNCATED);
  let kept = '';
  let bytes = 0;
  for (const character of text) {
    const length = Buffer.byteLength(character);
    if (bytes + length > budget) break;
    kept += character;
    bytes += length;
  }
  return kept + TRUNCATED;
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
