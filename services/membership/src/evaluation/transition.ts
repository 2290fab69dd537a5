import { createHash } from 'node:crypto';
import type { TransitionCause } from '@shoal/contracts';

/** A change of one profile's membership of one segment, as the evaluation core decides it. */
export interface Transition {
  readonly id: string;
  readonly profileId: string;
  readonly incarnation: string;
  readonly segmentId: string;
  readonly segmentVersion: number;
  readonly kind: 'entered' | 'exited';
  /** When membership changed (ms since the epoch). */
  readonly at: number;
  readonly cause: TransitionCause;
  /** The pair's sequence: 1 for its first transition, then +1 each. */
  readonly sequence: number;
}

/** A transition already on the membership topic, as a replay finds it (docs/membership.md). */
export type PublishedTransition = Pick<
  Transition,
  'profileId' | 'incarnation' | 'segmentId' | 'kind' | 'at' | 'sequence'
>;

/**
 * The id of a pair's n-th transition: the same (profile, incarnation, segment, sequence) always
 * gives the same id, shaped as a UUID (version 8, name-based).
 */
export function transitionId(
  profileId: string,
  incarnation: string,
  segmentId: string,
  sequence: number,
): string {
  const hex = createHash('sha256')
    .update(`${profileId}\u0000${incarnation}\u0000${segmentId}\u0000${sequence}`)
    .digest('hex');
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
