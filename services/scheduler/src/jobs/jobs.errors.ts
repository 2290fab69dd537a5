import { DomainError, ErrorKind, ValidationError } from '@shoal/platform';

export enum JobErrorCode {
  NotFound = 'JOB_NOT_FOUND',
  SegmentNotFound = 'SEGMENT_NOT_FOUND',
  NotEditor = 'SEGMENT_NOT_EDITABLE',
  NotRefreshable = 'SEGMENT_NOT_REFRESHABLE',
}

/** Every refusal of jobs, one factory each. */
export const JobError = {
  notFound: (jobId: string) =>
    new DomainError(ErrorKind.NotFound, JobErrorCode.NotFound, `no job "${jobId.slice(0, 64)}"`),
  segmentNotFound: (segmentId: string) =>
    new DomainError(
      ErrorKind.NotFound,
      JobErrorCode.SegmentNotFound,
      `no segment "${segmentId.slice(0, 64)}"`,
    ),
  notEditor: (segmentId: string) =>
    new DomainError(
      ErrorKind.PermissionDenied,
      JobErrorCode.NotEditor,
      `only the owner and editors of segment ${segmentId} refresh it or cancel its jobs`,
    ),
  notRefreshable: (segmentId: string) =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      JobErrorCode.NotRefreshable,
      `segment ${segmentId} is a static list: its members change only by hand`,
    ),
  invalid: (field: string, description: string) => new ValidationError([{ field, description }]),
};
