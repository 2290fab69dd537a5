import { type Segment, Visibility } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';

/**
 * Who may see a segment: its owner always; anyone else only when it is shared and not hidden
 * from them (by subject or by one of their groups). Shoal's own services see everything.
 * A segment the caller may not see is, to them, a segment that does not exist.
 */
export function canSee(
  segment: Pick<Segment, 'owner' | 'visibility' | 'hiddenFrom'>,
  principal: Principal,
): boolean {
  if (principal.kind === 'service') return true;
  if (segment.owner === principal.subject) return true;
  if (segment.visibility !== Visibility.SHARED) return false;
  const hidden = segment.hiddenFrom;
  if (!hidden) return true;
  return (
    !hidden.subjects.includes(principal.subject) &&
    !principal.groups.some((g) => hidden.groups.includes(g))
  );
}

/** Owner-only changes: who sees the segment, and deleting it. */
export function isOwner(segment: Pick<Segment, 'owner'>, principal: Principal): boolean {
  return segment.owner === principal.subject;
}
