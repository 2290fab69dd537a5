import type { RefreshPolicy, Segment } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';

export const SEGMENT_DEFINITIONS = Symbol('SegmentDefinitions');

/** The caller a change is made for, with what proves who they are to the segments service. */
export interface OnBehalfOf {
  readonly principal: Principal;
  /** The caller's own `authorization` header, passed on as it came (never this service's). */
  readonly authorization: string | undefined;
  /** Aborted when the caller stops waiting. */
  readonly signal?: AbortSignal;
}

/**
 * Segment definitions where they are kept (the segments service), read and changed as the caller:
 * a segment they may not see is NOT_FOUND, a change they may not make is refused, each as the
 * segments service answered it (a DomainError of the same kind, reason and field paths).
 */
export interface SegmentDefinitionsPort {
  get(segmentId: string, caller: OnBehalfOf): Promise<Segment>;
  /**
   * Replaces only the refresh policy of the version read, making a new version; ABORTED when
   * that version is no longer the latest.
   */
  setRefresh(
    segment: { readonly id: string; readonly version: bigint },
    refresh: RefreshPolicy,
    caller: OnBehalfOf,
  ): Promise<Segment>;
}
