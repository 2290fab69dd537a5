import type { SegmentEvaluationStatus } from '@shoal/contracts';

export const SEGMENT_STATUS_REPOSITORY = Symbol('SegmentStatusRepository');

/** What a batch of status records says about one segment: reports, and partitions tombstoned. */
export interface SegmentStatusChange {
  readonly segmentId: string;
  readonly reports: readonly SegmentEvaluationStatus[];
  readonly removedPartitions: readonly number[];
}

/**
 * The last status membership reported for each (segment, partition): one document per
 * segment, read and written by `_id`, a batch's segments together.
 */
export interface SegmentStatusRepositoryPort {
  /**
   * Applies the changes (at most one per segment) and answers, for each changed segment, every
   * partition's last report: none when its last partition was removed.
   */
  apply(changes: readonly SegmentStatusChange[]): Promise<Map<string, SegmentEvaluationStatus[]>>;
}
