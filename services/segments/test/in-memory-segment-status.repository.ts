import { clone } from '@bufbuild/protobuf';
import { type SegmentEvaluationStatus, SegmentEvaluationStatusSchema } from '@shoal/contracts';
import type {
  SegmentStatusChange,
  SegmentStatusRepositoryPort,
} from '../src/segment-status/segment-status.repository.port';

/** Each segment's last report per partition, in memory. */
export class InMemorySegmentStatusRepository implements SegmentStatusRepositoryPort {
  private readonly segments = new Map<string, Map<number, SegmentEvaluationStatus>>();

  async apply(changes: readonly SegmentStatusChange[]) {
    const answers = new Map<string, SegmentEvaluationStatus[]>();
    for (const { segmentId, reports, removedPartitions } of changes) {
      const partitions = this.segments.get(segmentId) ?? new Map<number, SegmentEvaluationStatus>();
      for (const report of reports)
        partitions.set(report.partition, clone(SegmentEvaluationStatusSchema, report));
      for (const partition of removedPartitions) partitions.delete(partition);
      if (partitions.size === 0) this.segments.delete(segmentId);
      else this.segments.set(segmentId, partitions);
      answers.set(
        segmentId,
        [...partitions.values()].map((s) => clone(SegmentEvaluationStatusSchema, s)),
      );
    }
    return answers;
  }
}
