import { IdentityKind } from '@shoal/contracts';
import type { Identity, ProfileState } from './profile-state';

/**
 * The key of an identifier in the identity graph and in profile ids: "user:<userId>",
 * "anon:<anonymousId>", "trait:<trait>:<value>". A profile's id is the key of the identifier it
 * was created for.
 */
export function identityKey(identity: Identity): string {
  switch (identity.kind) {
    case IdentityKind.USER_ID:
      return `user:${identity.value}`;
    case IdentityKind.ANONYMOUS_ID:
      return `anon:${identity.value}`;
    case IdentityKind.TRAIT:
      return `trait:${identity.trait ?? ''}:${identity.value}`;
    case IdentityKind.UNSPECIFIED:
      throw new Error('an identifier needs a kind');
  }
}

export const userIdentity = (value: string): Identity => ({ kind: IdentityKind.USER_ID, value });
export const anonymousIdentity = (value: string): Identity => ({
  kind: IdentityKind.ANONYMOUS_ID,
  value,
});
export const traitIdentity = (trait: string, value: string): Identity => ({
  kind: IdentityKind.TRAIT,
  value,
  trait,
});

export function hasUserId(profile: ProfileState): boolean {
  for (const identity of profile.identities.values())
    if (identity.kind === IdentityKind.USER_ID) return true;
  return false;
}

/**
 * Which of several profiles found to be one person survives a merge: one with a user id over
 * anonymous ones; among those, the one created first (by the event time of its first event);
 * then the smallest id. Every instance decides the same from the same profiles.
 */
export function survivorOf(profiles: readonly ProfileState[]): ProfileState {
  const [first, ...rest] = profiles;
  if (!first) throw new Error('no profiles to choose a survivor from');
  return rest.reduce((best, p) => (survives(p, best) ? p : best), first);
}

function survives(a: ProfileState, b: ProfileState): boolean {
  const au = hasUserId(a);
  const bu = hasUserId(b);
  if (au !== bu) return au;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.id < b.id;
}
