import { DomainError, ErrorKind, ValidationError, type FieldViolation } from '@shoal/platform';

export enum ScheduleErrorCode {
  SegmentNotFound = 'SEGMENT_NOT_FOUND',
  SetOnSegment = 'SCHEDULE_IN_DEFINITION',
  NotAdministrator = 'SCHEDULE_ADMIN_ONLY',
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
  setOnSegment: (segmentId: string) =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      ScheduleErrorCode.SetOnSegment,
      `segment ${segmentId}'s schedule is its refresh policy: change it with SegmentService.UpdateSegment (refresh.cron, refresh.time_zone)`,
    ),
  notAdministrator: () =>
    new DomainError(
      ErrorKind.PermissionDenied,
      ScheduleErrorCode.NotAdministrator,
      'only services and members of SCHEDULER_ADMIN_GROUPS change the default schedule',
    ),
};
