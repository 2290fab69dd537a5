import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { type SegmentEvaluationStatus, SegmentState } from '@shoal/contracts';
import type { SegmentEvaluation } from '../segments/segment-evaluation';
import { SegmentsService } from '../segments/segments.service';
import {
  SEGMENT_STATUS_REPOSITORY,
  type SegmentStatusChange,
  type SegmentStatusRepositoryPort,
} from './segment-status.repository.port';

/** One record of membership's status topic: a partition's report, or its tombstone (null). */
export interface SegmentStatusRecord {
  readonly segmentId: string;
  readonly partition: number;
  readonly status: SegmentEvaluationStatus | null;
}

const STATE_RANK: Partial<Record<SegmentState, number>> = {
  [SegmentState.FAILED]: 3,
  [SegmentState.COMPUTING]: 2,
  [SegmentState.READY]: 1,
};

/**
 * A segment's figures over its partitions, as membership's CountMembers sums them: counts
 * added, the least advanced state (COMPUTING until every partition reported), the oldest
 * version and the oldest refresh (a refresh is over when every partition finished it).
 */
export function evaluationOf(statuses: readonly SegmentEvaluationStatus[]): SegmentEvaluation {
  const partitionCount = Math.max(0, ...statuses.map((s) => s.partitionCount));
  const current = statuses.filter((s) => s.partition >= 0 && s.partition < partitionCount);
  const complete =
    partitionCount > 0 && new Set(current.map((s) => s.partition)).size === partitionCount;
  const rank = (state: SegmentState) => STATE_RANK[state] ?? 0;
  const state = current.reduce<SegmentState>(
    (worst, s) => (rank(s.state) > rank(worst) ? s.state : worst),
    complete ? SegmentState.READY : SegmentState.COMPUTING,
  );
  const failed = current.find((s) => s.state === SegmentState.FAILED);
  const refreshed = current.map((s) => (s.lastRefreshedAt ? timestampMs(s.lastRefreshedAt) : NaN));
  const everyRefreshed = complete && refreshed.every((at) => !Number.isNaN(at));
  const valueTrait = current[0]?.valueTrait ?? '';
  const summed =
    complete &&
    valueTrait !== '' &&
    current.every((s) => s.valueTrait === valueTrait && s.valueSum !== undefined);
  return {
    version: Math.min(...current.map((s) => Number(s.segmentVersion))),
    state,
    stateDetail: failed?.lastError ?? '',
    memberCount: current.reduce((sum, s) => sum + Number(s.memberCount), 0),
    ...(everyRefreshed ? { lastRefreshedAtMs: Math.min(...refreshed) } : {}),
    ...(summed
      ? { valueTrait, valueSum: current.reduce((sum, s) => sum + (s.valueSum ?? 0), 0) }
      : {}),
  };
}

/**
 * Keeps each segment's membership figures from the status topic: the last report per
 * partition, and their sum on the segment, so GetSegment and ListSegments show state, member
 * count and last refreshed, and listing sorts by member count. Reapplying records changes
 * nothing, so reading the topic again (every start) is harmless.
 */
@Injectable()
export class SegmentStatusService {
  constructor(
    @Inject(SEGMENT_STATUS_REPOSITORY) private readonly statuses: SegmentStatusRepositoryPort,
    private readonly segments: SegmentsService,
  ) {}

  /** A batch's segments together: the store sees the same few commands for 1 or 1,000 of them. */
  async apply(records: readonly SegmentStatusRecord[]): Promise<void> {
    const applied = await this.statuses.apply(changesOf(records));
    const evaluations = new Map<string, SegmentEvaluation>();
    for (const [segmentId, statuses] of applied)
      if (statuses.length > 0) evaluations.set(segmentId, evaluationOf(statuses));
    await this.segments.saveEvaluations(evaluations);
  }
}

/** The records' last word per (segment, partition), grouped by segment. */
function changesOf(records: readonly SegmentStatusRecord[]): SegmentStatusChange[] {
  const last = new Map<string, Map<number, SegmentEvaluationStatus | null>>();
  for (const { segmentId, partition, status } of records) {
    const partitions = last.get(segmentId) ?? new Map();
    partitions.set(partition, status);
    last.set(segmentId, partitions);
  }
  return [...last].map(([segmentId, partitions]) => {
    const entries = [...partitions];
    return {
      segmentId,
      reports: entries.flatMap(([, status]) => (status ? [status] : [])),
      removedPartitions: entries.filter(([, status]) => !status).map(([p]) => p),
    };
  });
}
