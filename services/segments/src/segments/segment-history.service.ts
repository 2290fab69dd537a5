import { Inject, Injectable } from '@nestjs/common';
import {
  ChangeAction,
  type Segment,
  type SegmentChange,
  type SegmentUsage,
} from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { draftOf } from './history';
import { SegmentUsagesService } from './segment-usages.service';
import { SegmentVersions } from './segment-versions.service';
import { SegmentError } from './segments.errors';
import { SEGMENT_REPOSITORY, type SegmentRepositoryPort } from './segments.repository.port';

/**
 * A segment's history: who changed what when, every earlier version as it was, and reverting to
 * one (a new version with that version's definition). History stays readable after a delete,
 * until the segment is purged.
 */
@Injectable()
export class SegmentHistoryService {
  constructor(
    @Inject(SEGMENT_REPOSITORY) private readonly segments: SegmentRepositoryPort,
    private readonly versions: SegmentVersions,
    private readonly usages: SegmentUsagesService,
  ) {}

  /** Changes up to the current version, newest first, below `beforeVersion`. */
  async history({
    id,
    beforeVersion,
    limit,
    principal,
  }: {
    id: string;
    beforeVersion: number;
    limit: number;
    principal: Principal;
  }): Promise<SegmentChange[]> {
    const stored = await this.versions.readable(id, principal);
    return this.segments.listChanges(id, Number(stored.segment.version), beforeVersion, limit);
  }

  async version({
    id,
    version,
    principal,
  }: {
    id: string;
    version: bigint;
    principal: Principal;
  }): Promise<Segment> {
    const stored = await this.versions.readable(id, principal);
    const found =
      version > 0n && version <= stored.segment.version
        ? await this.segments.findVersion(id, Number(version))
        : undefined;
    if (!found) throw SegmentError.versionNotFound(id, version);
    return found.snapshot;
  }

  /** A new version whose definition equals `toVersion`'s, checked like any edit. */
  async revert({
    id,
    expectedVersion,
    toVersion,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    toVersion: bigint;
    principal: Principal;
  }): Promise<{ segment: Segment; usages: SegmentUsage[] }> {
    const current = await this.versions.editable(id, expectedVersion, principal);
    const earlier = await this.version({ id, version: toVersion, principal });
    const next = await this.versions.revise(current, draftOf(earlier), principal);
    const segment = await this.versions.commit(current, next, ChangeAction.REVERTED, principal, {
      revertedTo: toVersion,
    });
    return { segment, usages: await this.usages.usages(id, principal) };
  }
}
