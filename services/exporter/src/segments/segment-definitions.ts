import type { Segment } from '@shoal/contracts';
import { CATCH_UP_TIMEOUT_MS, type TopicCatchUp } from '@shoal/platform';

/** One record of the definitions topic: a segment's current definition, or null (deleted). */
export interface DefinitionRecord {
  readonly segmentId: string;
  readonly definition: Segment | null;
}

/**
 * The segment definitions the exporter knows, as read from the compacted definitions topic: the
 * highest version per segment; an older version re-published later is ignored, also after a
 * deletion, so a replay never brings a deleted segment back.
 */
export class SegmentDefinitions {
  private readonly definitions = new Map<string, Segment>();
  /** Highest version seen per segment, deleted ones included. */
  private readonly versions = new Map<string, bigint>();
  private catchUp?: TopicCatchUp;

  /** How a question naming a segment not read yet catches up with the topic (the follower). */
  readsFrom(catchUp: TopicCatchUp): void {
    this.catchUp = catchUp;
  }

  /**
   * For a question naming a segment: when it is not known yet, reads the definitions topic to
   * its end first (bounded), so a segment published before the question — one created a moment
   * ago — is found.
   */
  async catchUpFor(segmentId: string): Promise<void> {
    if (!this.definitions.has(segmentId)) await this.catchUp?.readToEnd(CATCH_UP_TIMEOUT_MS);
  }

  apply(records: readonly DefinitionRecord[]): void {
    for (const { segmentId, definition } of records) {
      if (definition === null) {
        this.definitions.delete(segmentId);
        continue;
      }
      const seen = this.versions.get(segmentId);
      if (seen !== undefined && definition.version <= seen) continue;
      this.versions.set(segmentId, definition.version);
      this.definitions.set(segmentId, definition);
    }
  }

  get(segmentId: string): Segment | undefined {
    return this.definitions.get(segmentId);
  }
}
