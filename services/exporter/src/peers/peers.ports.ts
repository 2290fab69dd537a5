import type { Profile } from '@shoal/contracts';

/** The members of a segment, page by page, as the membership service lists them. */
export interface MemberSource {
  /** Pages of profile ids; the whole segment, in the membership service's order. */
  pages(segmentId: string, pageSize: number, signal?: AbortSignal): AsyncIterable<string[]>;
}

/**
 * Profiles by id, as ingestion holds them. A profile that no longer exists (erased, merged
 * away) is absent from the answer.
 */
export interface ProfileSource {
  profiles(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, Profile>>;
}

/** Tells the segments service which destinations use a segment (auto-syncing ones lock it). */
export interface SegmentUsageRegistry {
  setDestinationUsage(usage: {
    segmentId: string;
    destinationId: string;
    destinationName: string;
    autoSync: boolean;
    inUse: boolean;
  }): Promise<void>;
}

export const MEMBER_SOURCE = Symbol('MemberSource');
export const PROFILE_SOURCE = Symbol('ProfileSource');
export const SEGMENT_USAGE_REGISTRY = Symbol('SegmentUsageRegistry');
