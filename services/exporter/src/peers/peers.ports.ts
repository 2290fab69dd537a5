import type { Profile, SegmentKind } from '@shoal/contracts';

/** Which members a source lists: a dynamic segment's or a static list's. */
export interface MemberSet {
  readonly id: string;
  readonly kind: SegmentKind;
}

/**
 * The members of a segment, page by page: a dynamic segment's as the membership service
 * evaluates them, a static list's as the segments service holds them.
 */
export interface MemberSource {
  /** Pages of profile ids; the whole segment. */
  pages(segment: MemberSet, pageSize: number, signal?: AbortSignal): AsyncIterable<string[]>;
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
