import { Inject, Injectable } from '@nestjs/common';
import type { Segment } from '@shoal/contracts';
import { LOGGER } from '@shoal/platform';
import type { Logger } from 'pino';
import { SegmentCatalogue } from '../evaluation/segment-catalogue';

/** One record of the definitions topic: a segment's current definition, or null (deleted). */
export interface DefinitionRecord {
  readonly segmentId: string;
  readonly definition: Segment | null;
}

/**
 * The segment definitions membership knows, as read from the compacted definitions topic: the
 * highest version per segment (an older version re-published later is ignored, also after a
 * deletion), and the catalogue built from them. Listeners hear of every new catalogue.
 */
@Injectable()
export class SegmentDefinitionsService {
  private readonly definitions = new Map<string, Segment>();
  /** Highest version seen per segment, deleted ones included. */
  private readonly versions = new Map<string, bigint>();
  private catalogue = SegmentCatalogue.empty();
  private readonly listeners: ((catalogue: SegmentCatalogue) => void)[] = [];

  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  get current(): SegmentCatalogue {
    return this.catalogue;
  }

  /** A live definition by id (dynamic segments and static lists). */
  definition(segmentId: string): Segment | undefined {
    return this.definitions.get(segmentId);
  }

  onCatalogue(listener: (catalogue: SegmentCatalogue) => void): void {
    this.listeners.push(listener);
  }

  /** Applies records in order; builds a new catalogue once if anything changed. */
  apply(records: readonly DefinitionRecord[]): void {
    let changed = false;
    for (const { segmentId, definition } of records) {
      const seen = this.versions.get(segmentId);
      if (definition === null) {
        changed = this.definitions.delete(segmentId) || changed;
        continue;
      }
      if (seen !== undefined && definition.version <= seen) continue;
      this.versions.set(segmentId, definition.version);
      this.definitions.set(segmentId, definition);
      changed = true;
    }
    if (!changed) return;
    this.catalogue = SegmentCatalogue.build({ definitions: this.definitions.values() });
    for (const { definition, reason } of this.catalogue.failed.values())
      this.logger.warn({ segmentId: definition.id, reason }, 'segment cannot be evaluated');
    for (const listener of this.listeners) listener(this.catalogue);
  }
}
