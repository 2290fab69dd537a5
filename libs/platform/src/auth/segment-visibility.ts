import { type Segment, Visibility } from '@shoal/contracts';
import type { Principal } from './principal';

/**
 * Who may see a segment: its owner always; anyone else only when it is shared and not hidden
 * from them (by subject or by one of their groups). Shoal's own services see everything.
 * A segment the caller may not see is, to them, a segment that does not exist. Every service
 * answering about segments (segments, membership, exporter) decides with this one function.
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
