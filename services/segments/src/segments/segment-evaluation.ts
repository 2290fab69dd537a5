import { clone } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { type Segment, SegmentKind, SegmentSchema, SegmentState } from '@shoal/contracts';

/**
 * How computing a dynamic segment's membership stands, as the membership service last reported
 * it over all partitions. Kept beside the definition, never inside it, so an edit made at the
 * same time as a report overwrites neither.
 */
export interface SegmentEvaluation {
  /** The definition version membership evaluated. */
  readonly version: number;
  readonly state: SegmentState;
  readonly stateDetail: string;
  readonly memberCount: number;
  /** The end of the last full (re)computation every partition finished; unset until then. */
  readonly lastRefreshedAtMs?: number;
  /** The value trait every partition summed, and the sum over them (absent otherwise). */
  readonly valueTrait?: string;
  readonly valueSum?: number;
}

/**
 * The segment as users see it: its definition with membership's figures. A draft stays a
 * draft, and a segment whose rule changed stays COMPUTING until membership reports on a version
 * at least as new.
 */
export function withEvaluation(segment: Segment, evaluation?: SegmentEvaluation): Segment {
  if (!evaluation || segment.kind !== SegmentKind.DYNAMIC) return segment;
  const shown = clone(SegmentSchema, segment);
  shown.memberCount = BigInt(evaluation.memberCount);
  if (evaluation.lastRefreshedAtMs !== undefined)
    shown.lastRefreshedAt = timestampFromMs(evaluation.lastRefreshedAtMs);
  // a sum of another value trait (reported before an edit reached membership) is not shown
  shown.valueSum =
    evaluation.valueTrait === segment.valueTrait && segment.valueTrait !== ''
      ? evaluation.valueSum
      : undefined;
  const waitsForNewer =
    segment.state === SegmentState.COMPUTING && evaluation.version < Number(segment.version);
  if (segment.state !== SegmentState.DRAFT && !waitsForNewer) {
    shown.state = evaluation.state;
    shown.stateDetail = evaluation.stateDetail;
  }
  return shown;
}
