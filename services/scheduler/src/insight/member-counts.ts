import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import { type SegmentEvaluationStatus, SegmentState } from '@shoal/contracts';

/** One record of membership's status topic: a partition's report, or its tombstone (null). */
export interface StatusRecord {
  readonly segmentId: string;
  readonly partition: number;
  readonly status: SegmentEvaluationStatus | null;
}

/** A segment's figures now, over its partitions. */
export interface SegmentCount {
  readonly memberCount: number;
  readonly state: SegmentState;
  /** The end of the last refresh every partition finished. */
  readonly lastRefreshedAtMs?: number;
  /**
   * The sum of a value trait over the members, once every partition reported one for the same
   * trait (absent otherwise), and how many members had a value.
   */
  readonly value?: { readonly trait: string; readonly sum: number; readonly valued: number };
}

/**
 * Every segment's member count, state and last refresh, from membership's compacted status
 * topic (each partition's last report; the segment's figures are their sum, as the segments
 * service shows them). In memory: the topic is read whole at start-up.
 */
@Injectable()
export class MemberCounts {
  private readonly segments = new Map<string, Map<number, SegmentEvaluationStatus>>();

  apply(records: readonly StatusRecord[]): void {
    for (const { segmentId, partition, status } of records) {
      const partitions = this.segments.get(segmentId) ?? new Map();
      if (status) partitions.set(partition, status);
      else partitions.delete(partition);
      if (partitions.size === 0) this.segments.delete(segmentId);
      else this.segments.set(segmentId, partitions);
    }
  }

  segmentIds(): string[] {
    return [...this.segments.keys()];
  }

  of(segmentId: string): SegmentCount | undefined {
    const statuses = [...(this.segments.get(segmentId)?.values() ?? [])];
    if (statuses.length === 0) return undefined;
    const partitionCount = Math.max(...statuses.map((s) => s.partitionCount));
    const complete = new Set(statuses.map((s) => s.partition)).size >= partitionCount;
    const failed = statuses.some((s) => s.state === SegmentState.FAILED);
    const ready = complete && statuses.every((s) => s.state === SegmentState.READY);
    const refreshed = statuses.map((s) =>
      s.lastRefreshedAt ? timestampMs(s.lastRefreshedAt) : NaN,
    );
    const everyRefreshed = complete && refreshed.every((at) => !Number.isNaN(at));
    const trait = statuses[0]?.valueTrait ?? '';
    const summed =
      complete &&
      trait !== '' &&
      statuses.every((s) => s.valueTrait === trait && s.valueSum !== undefined);
    return {
      memberCount: statuses.reduce((sum, s) => sum + Number(s.memberCount), 0),
      state: failed ? SegmentState.FAILED : ready ? SegmentState.READY : SegmentState.COMPUTING,
      ...(everyRefreshed ? { lastRefreshedAtMs: Math.min(...refreshed) } : {}),
      ...(summed
        ? {
            value: {
              trait,
              sum: statuses.reduce((sum, s) => sum + (s.valueSum ?? 0), 0),
              valued: statuses.reduce((n, s) => n + Number(s.valuedMemberCount), 0),
            },
          }
        : {}),
    };
  }
}
