import {
  DomainError,
  ErrorKind,
  type FieldViolation,
  ValidationError,
  limitExceeded,
} from '@shoal/platform';

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
  NotDeleted = 'SEGMENT_NOT_DELETED',
}

/** Every refusal of the segments feature, one factory each; invalid input is a ValidationError. */
export const SegmentError = {
  notFound: (id: string) =>
    new DomainError(ErrorKind.NotFound, SegmentErrorCode.NotFound, `segment ${id} not found`),

  versionNotFound: (id: string, version: bigint) =>
    new DomainError(
      ErrorKind.NotFound,
      SegmentErrorCode.VersionNotFound,
      `segment ${id} has no version ${version}`,
    ),

  /** Every problem with the input at once, each at its field path. */
  invalid: (violations: readonly FieldViolation[]) => new ValidationError(violations),

  nameTaken: (name: string) =>
    new DomainError(
      ErrorKind.AlreadyExists,
      SegmentErrorCode.NameTaken,
      `you already have a segment named "${name}"`,
    ),

  versionConflict: (id: string, expected: bigint, actual: bigint) =>
    new DomainError(
      ErrorKind.Aborted,
      SegmentErrorCode.VersionConflict,
      `segment ${id} is at version ${actual}, not ${expected}: read it again and retry`,
    ),

  locked: (id: string, destinationIds: readonly string[]) =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      SegmentErrorCode.Locked,
      `segment ${id} is locked while auto-syncing destinations use it (${destinationIds.join(', ')})`,
    ),

  /** `usages` as `describeUsages` words them. */
  inUse: (id: string, usages: string) =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      SegmentErrorCode.InUse,
      `segment ${id} is used by ${usages}; delete with force to delete anyway`,
    ),

  /** Hiding a segment from people who see a segment using it would show them its members. */
  usedWhereHidden: (id: string, usages: string) =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      SegmentErrorCode.InUse,
      `segment ${id} is used by ${usages}, seen by people it would be hidden from; change what uses it first`,
      [{ field: 'segment.visibility', description: `would hide it from people who see ${usages}` }],
    ),

  notDeleted: (id: string) =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      SegmentErrorCode.NotDeleted,
      `segment ${id} is not deleted; delete it first`,
    ),

  /** `what` completes "only the segment's owner may …". */
  ownerOnly: (what: string) =>
    new DomainError(
      ErrorKind.PermissionDenied,
      SegmentErrorCode.OwnerOnly,
      `only the segment's owner may ${what}`,
    ),

  editorsOnly: () =>
    new DomainError(
      ErrorKind.PermissionDenied,
      SegmentErrorCode.EditorsOnly,
      "only the segment's owner and its editors may change it",
    ),

  serviceOnly: (what: string) =>
    new DomainError(
      ErrorKind.PermissionDenied,
      SegmentErrorCode.ServiceOnly,
      `only Shoal services may ${what}`,
    ),

  tooManySegments: (owner: string, owned: number, max: number) =>
    limitExceeded('SEGMENTS_PER_OWNER_MAX', max, `${owner} already has ${owned} segments`),
};
