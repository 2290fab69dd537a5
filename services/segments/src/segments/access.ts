import { type Segment, Visibility } from '@shoal/contracts';
import { type Principal, canSee } from '@shoal/platform';

type Audience = Pick<Segment, 'owner' | 'visibility' | 'hiddenFrom'>;

export { canSee };

/**
 * Who may change a segment's definition: its owner, and the editors it names (by subject or
 * group) among those who see it. Everyone else who sees it may view, duplicate and use it.
 */
export function canEdit(
  segment: Audience & Pick<Segment, 'editors'>,
  principal: Principal,
): boolean {
  if (principal.kind === 'service' || isOwner(segment, principal)) return true;
  const editors = segment.editors;
  if (!editors || !canSee(segment, principal)) return false;
  return (
    editors.subjects.includes(principal.subject) ||
    principal.groups.some((g) => editors.groups.includes(g))
  );
}

/** Owner-only changes: the name, who sees and who edits the segment, and deleting it. */
export function isOwner(segment: Pick<Segment, 'owner'>, principal: Pick<Principal, 'subject'>) {
  return segment.owner === principal.subject;
}

/**
 * Whether everyone who can see `referrer` can see `target`, so that using `target` in the
 * referrer's rule tells no one about members of a segment hidden from them. Group membership
 * is known only from tokens: `referrerOwnerGroups` are the referrer's owner's groups when the
 * caller is that owner (otherwise none are assumed).
 */
export function seenByEveryoneWhoSees({
  target,
  referrer,
  referrerOwnerGroups,
}: {
  target: Audience;
  referrer: Audience;
  referrerOwnerGroups: readonly string[];
}): boolean {
  const owner = {
    subject: referrer.owner,
    groups: [...referrerOwnerGroups],
    kind: 'user' as const,
  };
  if (!canSee(target, owner)) return false;
  if (referrer.visibility !== Visibility.SHARED) return true;
  if (target.visibility !== Visibility.SHARED) return false;
  // anyone the target hides (but its owner, who always sees it) must be hidden from the referrer too
  const hiddenTarget = target.hiddenFrom;
  const hiddenReferrer = referrer.hiddenFrom;
  return (
    (hiddenTarget?.subjects ?? []).every(
      (s) => s === target.owner || (s !== referrer.owner && !!hiddenReferrer?.subjects.includes(s)),
    ) && (hiddenTarget?.groups ?? []).every((g) => !!hiddenReferrer?.groups.includes(g))
  );
}
