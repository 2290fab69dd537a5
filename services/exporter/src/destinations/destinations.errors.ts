import { DomainError, ErrorKind, type FieldViolation, describeViolations } from '@shoal/platform';

export enum DestinationErrorCode {
  DestinationNotFound = 'DESTINATION_NOT_FOUND',
  InvalidArgument = 'INVALID_ARGUMENT',
  VersionConflict = 'VERSION_CONFLICT',
  AlreadyLinked = 'SEGMENT_ALREADY_LINKED',
  NotLinked = 'SEGMENT_NOT_LINKED',
  UsersOnly = 'USERS_ONLY',
}

/** Everything destinations refuse, each with its reason code. */
export class DestinationError extends DomainError {
  /** Unknown, or someone else's: both look the same. */
  static notFound(id: string): DestinationError {
    return new DestinationError(
      ErrorKind.NotFound,
      DestinationErrorCode.DestinationNotFound,
      `destination ${id.slice(0, 100)} not found`,
    );
  }

  static invalid(violations: readonly FieldViolation[]): DestinationError {
    return new DestinationError(
      ErrorKind.InvalidArgument,
      DestinationErrorCode.InvalidArgument,
      describeViolations(violations),
      violations,
    );
  }

  static versionConflict(id: string, expected: bigint, current: bigint): DestinationError {
    return new DestinationError(
      ErrorKind.Aborted,
      DestinationErrorCode.VersionConflict,
      `destination ${id} is at version ${current}, not ${expected}: read it again`,
    );
  }

  static alreadyLinked(id: string, segmentId: string): DestinationError {
    return new DestinationError(
      ErrorKind.AlreadyExists,
      DestinationErrorCode.AlreadyLinked,
      `segment ${segmentId} is already linked to destination ${id}`,
    );
  }

  static notLinked(id: string, segmentId: string): DestinationError {
    return new DestinationError(
      ErrorKind.NotFound,
      DestinationErrorCode.NotLinked,
      `segment ${segmentId.slice(0, 100)} is not linked to destination ${id}`,
    );
  }

  static usersOnly(): DestinationError {
    return new DestinationError(
      ErrorKind.PermissionDenied,
      DestinationErrorCode.UsersOnly,
      'destinations belong to users; a service token cannot create one',
    );
  }
}
