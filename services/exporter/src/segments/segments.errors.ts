import { DomainError, ErrorKind } from '@shoal/platform';

export enum ExportSegmentErrorCode {
  SegmentNotFound = 'SEGMENT_NOT_FOUND',
  SegmentNotShared = 'SEGMENT_NOT_SHARED',
}

/** What the exporter refuses about the segments it is asked to export. */
export class ExportSegmentError extends DomainError {
  /** Unknown, deleted, or one the caller may not see: all look the same. */
  static notFound(segmentId: string): ExportSegmentError {
    return new ExportSegmentError(
      ErrorKind.NotFound,
      ExportSegmentErrorCode.SegmentNotFound,
      `segment ${segmentId.slice(0, 100)} not found`,
    );
  }

  /** Only shared segments leave Shoal through destinations. */
  static notShared(segmentId: string): ExportSegmentError {
    return new ExportSegmentError(
      ErrorKind.FailedPrecondition,
      ExportSegmentErrorCode.SegmentNotShared,
      `segment ${segmentId} is private; only shared segments may be linked to a destination`,
    );
  }
}
