import type { Segment } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';

export { canSee } from '@shoal/platform';

/** Owner-only changes: who sees the segment, and deleting it. */
export function isOwner(segment: Pick<Segment, 'owner'>, principal: Principal): boolean {
  return segment.owner === principal.subject;
}
