import { Inject, Injectable } from '@nestjs/common';
import { ChangeAction, type Segment, type SegmentUsage } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { revised } from './segment-definitions';
import { destinationUsage, segmentUsage } from './segment-usages';
import { destinationViolations } from './segment-validation';
import { SegmentVersions } from './segment-versions.service';
import { SegmentError } from './segments.errors';
import {
  type DestinationUse,
  SEGMENT_REPOSITORY,
  type SegmentRepositoryPort,
} from './segments.repository.port';

/**
 * What uses a segment — other segments' rules and the exporter's destinations — and the lock an
 * auto-syncing destination puts on it.
 */
@Injectable()
export class SegmentUsagesService {
  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    private readonly versions: SegmentVersions,
  ) {}

  /** Other segments whose rules read this one, and destinations syncing it. */
  async usages(id: string, principal: Principal): Promise<SegmentUsage[]> {
    const stored = await this.versions.visible(id, principal);
    const referencing = await this.segments.findReferencing(id);
    return [
      ...referencing.map(({ segment }) => segmentUsage(segment, principal)),
      ...stored.destinations.map(destinationUsage),
    ];
  }

  /**
   * The exporter tells us a destination started or stopped using a segment; auto-syncing
   * destinations lock it against edits while they use it.
   */
  async setDestinationUsage({
    segmentId,
    destination,
    inUse,
    principal,
  }: {
    segmentId: string;
    destination: DestinationUse;
    inUse: boolean;
    principal: Principal;
  }): Promise<Segment> {
    if (principal.kind !== 'service') throw SegmentError.serviceOnly('record destination usage');
    const violations = destinationViolations(destination);
    if (violations.length > 0) throw SegmentError.invalid(violations);
    const current = await this.versions.visible(segmentId, principal);
    const others = current.destinations.filter((d) => d.id !== destination.id);
    const destinations = inUse ? [...others, destination] : others;
    const lockedBy = destinations
      .filter((d) => d.autoSync)
      .map((d) => d.id)
      .sort();
    const locked = lockedBy.length > 0;
    const wasLocked = current.segment.lock?.locked ?? false;
    const segment = revised(current.segment, { lock: { locked, destinationIds: lockedBy } });
    const action =
      locked === wasLocked
        ? ChangeAction.UPDATED
        : locked
          ? ChangeAction.LOCKED
          : ChangeAction.UNLOCKED;
    return this.versions.commit(current, segment, action, principal, { destinations });
  }
}
