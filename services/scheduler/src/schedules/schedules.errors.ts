import { DomainError, ErrorKind, ValidationError, type FieldViolation } from '@shoal/platform';

export enum ScheduleErrorCode {
  SegmentNotFound = 'SEGMENT_NOT_FOUND',
  NotScheduled = 'SEGMENT_NOT_SCHEDULED',
  NotAdministrator = 'SCHEDULE_ADMIN_ONLY',
  SegmentsUnavailable = 'SEGMENTS_UNAVAILABLE',
  SegmentsFailed = 'SEGMENTS_FAILED',
}

/** Every refusal of schedules, one factory each. */
export const ScheduleError = {
  invalid: (violations: readonly FieldViolation[]) => new ValidationError(violations),
  segmentNotFound: (segmentId: string) =>
    new DomainError(
      ErrorKind.NotFound,
      ScheduleErrorCode.SegmentNotFound,
      `no segment "${segmentId.slice(0, 64)}"`,
    ),
  /** Only a SCHEDULED segment has a schedule; a refresh mode is changed with the definition. */
  notScheduled: (segmentId: string, mode: 'REALTIME' | 'MANUAL' | 'a static list') =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      ScheduleErrorCode.NotScheduled,
      mode === 'a static list'
        ? `segment ${segmentId} is a static list: it is not refreshed`
        : `segment ${segmentId} is ${mode}, not SCHEDULED: its refresh mode is changed with SegmentService.UpdateSegment (refresh.mode), not by setting a schedule`,
    ),
  notAdministrator: () =>
    new DomainError(
      ErrorKind.PermissionDenied,
      ScheduleErrorCode.NotAdministrator,
      'only services and members of SCHEDULER_ADMIN_GROUPS change the default schedule',
    ),
  /**
   * What the segments service answered, passed on as it is: its kind, reason, message and field
   * paths. An answer that is not a Shoal refusal (the service down, too slow) has no reason.
   */
  segmentsAnswered: (
    kind: ErrorKind,
    message: string,
    reason = '',
    violations: readonly FieldViolation[] = [],
  ) =>
    new DomainError(
      kind,
      reason ||
        (kind === ErrorKind.Internal
          ? ScheduleErrorCode.SegmentsFailed
          : ScheduleErrorCode.SegmentsUnavailable),
      reason ? message : `the segments service answered: ${message}`,
      violations,
    ),
};
