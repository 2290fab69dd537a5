import { DomainError, ErrorKind, type FieldViolation } from '@shoal/platform';

export enum SegmentErrorCode {
  NotFound = 'SEGMENT_NOT_FOUND',
  VersionNotFound = 'SEGMENT_VERSION_NOT_FOUND',
  NameTaken = 'SEGMENT_NAME_TAKEN',
  VersionConflict = 'SEGMENT_VERSION_CONFLICT',
  Locked = 'SEGMENT_LOCKED',
  InUse = 'SEGMENT_IN_USE',
  OwnerOnly = 'SEGMENT_OWNER_ONLY',
  EditorsOnly = 'SEGMENT_EDITORS_ONLY',
  ServiceOnly = 'SERVICE_ONLY',
  NotAStaticList = 'NOT_A_STATIC_LIST',
  NotDeleted = 'SEGMENT_NOT_DELETED',
  LimitExceeded = 'LIMIT_EXCEEDED',
  InvalidSegment = 'SEGMENT_INVALID',
  TemplateNotFound = 'TEMPLATE_NOT_FOUND',
}

/** Everything the segments feature refuses, each with its reason code. */
export class SegmentError extends DomainError {
  static notFound(id: string): SegmentError {
    return new SegmentError(
      ErrorKind.NotFound,
      SegmentErrorCode.NotFound,
      `segment ${id} not found`,
    );
  }

  static invalid(violations: readonly FieldViolation[]): SegmentError {
    const text = violations
      .map((v) => (v.field ? `${v.field}: ${v.description}` : v.description))
      .join('; ');
    return new SegmentError(
      ErrorKind.InvalidArgument,
      SegmentErrorCode.InvalidSegment,
      text,
      violations,
    );
  }

  static versionConflict(id: string, expected: bigint, actual: bigint): SegmentError {
    return new SegmentError(
      ErrorKind.Aborted,
      SegmentErrorCode.VersionConflict,
      `segment ${id} is at version ${actual}, not ${expected}: read it again and retry`,
    );
  }

  static limit(name: string, value: number, what: string): SegmentError {
    return new SegmentError(
      ErrorKind.ResourceExhausted,
      SegmentErrorCode.LimitExceeded,
      `${what}: the limit ${name} is ${value}`,
    );
  }
}
