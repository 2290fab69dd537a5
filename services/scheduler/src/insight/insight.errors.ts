import { DomainError, ErrorKind, ValidationError } from '@shoal/platform';

export enum InsightErrorCode {
  SegmentNotFound = 'SEGMENT_NOT_FOUND',
}

/** Every refusal of history and insight, one factory each. */
export const InsightError = {
  segmentNotFound: (segmentId: string) =>
    new DomainError(
      ErrorKind.NotFound,
      InsightErrorCode.SegmentNotFound,
      `no segment "${segmentId.slice(0, 64)}"`,
    ),
  invalid: (field: string, description: string) => new ValidationError([{ field, description }]),
};
