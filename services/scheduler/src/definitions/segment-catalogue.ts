import { Injectable } from '@nestjs/common';
import { type Segment, SegmentKind, SegmentStatus } from '@shoal/contracts';
import { CATCH_UP_TIMEOUT_MS, type Principal, type TopicCatchUp, canSee } from '@shoal/platform';
import { DEFAULT_LIMITS, dependenciesOf } from '@shoal/rules';

/** A definition as the definitions topic carries it: a segment, or null once deleted. */
export interface DefinitionRecord {
  readonly segmentId: string;
  readonly definition: Segment | null;
}

/**
 * Every segment definition, followed from the compacted definitions topic: what the scheduler
 * schedules, and whom it lets see and refresh what. Kept in memory; the topic is the truth.
 */
@Injectable()
export class SegmentCatalogue {
  private readonly segments = new Map<string, Segment>();
  private readonly references = new Map<string, readonly string[]>();
  private catchUp?: TopicCatchUp;

  /** How a question naming an id not read yet catches up with the topic (the follower). */
  readsFrom(catchUp: TopicCatchUp): void {
    this.catchUp = catchUp;
  }

  apply(records: readonly DefinitionRecord[]): void {
    for (const { segmentId, definition } of records) {
      if (definition === null) {
        this.segments.delete(segmentId);
        this.references.delete(segmentId);
      } else {
        this.segments.set(segmentId, definition);
        this.references.set(segmentId, referencesOf(definition));
      }
    }
  }

  get(id: string): Segment | undefined {
    return this.segments.get(id);
  }

  all(): Segment[] {
    return [...this.segments.values()];
  }

  /** The segment when `principal` may see it (others do not exist for them). */
  visible(id: string, principal: Principal): Segment | undefined {
    const segment = this.segments.get(id);
    return segment && canSee(segment, principal) ? segment : undefined;
  }

  /**
   * For a question naming segments: when any of `ids` is not known yet, reads the definitions
   * topic to its end first (bounded), so a segment published before the question — one created
   * a moment ago — is found.
   */
  async catchUpFor(ids: readonly string[]): Promise<void> {
    if (ids.some((id) => !this.segments.has(id)))
      await this.catchUp?.readToEnd(CATCH_UP_TIMEOUT_MS);
  }

  /** `visible`, for a question naming the segment (see `catchUpFor`). */
  async visibleNow(id: string, principal: Principal): Promise<Segment | undefined> {
    await this.catchUpFor([id]);
    return this.visible(id, principal);
  }

  /** Segments `id`'s rule reads. */
  referencesOf(id: string): readonly string[] {
    return this.references.get(id) ?? [];
  }

  /**
   * The ids in an order where a segment comes after the segments among them that it reads
   * (a cycle, which validation refuses, keeps the given order).
   */
  referencedFirst(ids: readonly string[]): string[] {
    const wanted = new Set(ids);
    const ordered: string[] = [];
    const placed = new Set<string>();
    const visiting = new Set<string>();
    const place = (id: string) => {
      if (placed.has(id) || visiting.has(id)) return;
      visiting.add(id);
      for (const used of this.referencesOf(id)) if (wanted.has(used)) place(used);
      visiting.delete(id);
      placed.add(id);
      ordered.push(id);
    };
    for (const id of ids) place(id);
    return ordered;
  }
}

function referencesOf(segment: Segment): readonly string[] {
  if (segment.kind !== SegmentKind.DYNAMIC || !segment.rule) return [];
  try {
    return dependenciesOf({ rule: segment.rule, limits: DEFAULT_LIMITS }).segments;
  } catch {
    // a rule this version cannot read orders nothing; membership reports it FAILED
    return [];
  }
}

export const isActive = (segment: Segment) => segment.status === SegmentStatus.ACTIVE;
