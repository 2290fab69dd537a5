import { DomainError, ErrorKind, type FieldViolation, describeViolations } from '@shoal/platform';

export enum MembershipErrorCode {
  SegmentNotFound = 'SEGMENT_NOT_FOUND',
  NotEvaluated = 'SEGMENT_NOT_EVALUATED',
  InvalidArgument = 'INVALID_ARGUMENT',
}

/** Everything the membership queries refuse, each with its reason code. */
export class MembershipError extends DomainError {
  /** Unknown, not a dynamic segment, or one the caller may not see: all look the same. */
  static segmentNotFound(segmentId: string): MembershipError {
    return new MembershipError(
      ErrorKind.NotFound,
      MembershipErrorCode.SegmentNotFound,
      `segment ${segmentId.slice(0, 100)} not found`,
    );
  }

  static notEvaluated(segmentId: string, reason: string): MembershipError {
    return new MembershipError(
      ErrorKind.FailedPrecondition,
      MembershipErrorCode.NotEvaluated,
      `segment ${segmentId} is not evaluated: ${reason}`,
    );
  }

  static invalid(violations: readonly FieldViolation[]): MembershipError {
    return new MembershipError(
      ErrorKind.InvalidArgument,
      MembershipErrorCode.InvalidArgument,
      describeViolations(violations),
      violations,
    );
  }
}
