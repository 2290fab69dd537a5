import { Injectable } from '@nestjs/common';
import { type Segment, Visibility } from '@shoal/contracts';
import { type Principal, canSee } from '@shoal/platform';
import { SegmentDefinitions } from './segment-definitions';
import { ExportSegmentError } from './segments.errors';

/**
 * Which segments a caller may export or link, decided with the platform's one visibility rule
 * over the definitions the exporter follows. A segment it has not read yet is looked for on the
 * definitions topic first, so one published a moment ago is found.
 */
@Injectable()
export class SegmentAccessService {
  constructor(private readonly definitions: SegmentDefinitions) {}

  /** The segment, when it exists and the caller may see it; NOT_FOUND otherwise. */
  async visible(segmentId: string, principal: Principal): Promise<Segment> {
    await this.definitions.catchUpFor(segmentId);
    const segment = this.definitions.get(segmentId);
    if (!segment || !canSee(segment, principal)) throw ExportSegmentError.notFound(segmentId);
    return segment;
  }

  /** A segment a destination may sync: visible to the caller and shared. */
  async linkable(segmentId: string, principal: Principal): Promise<Segment> {
    const segment = await this.visible(segmentId, principal);
    if (segment.visibility !== Visibility.SHARED) throw ExportSegmentError.notShared(segmentId);
    return segment;
  }
}
