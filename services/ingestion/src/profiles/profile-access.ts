import type { Principal } from '@shoal/platform';
import { ProfileError } from './profiles.errors';

/** Which users, besides Shoal's services, may do what with profiles (PROFILE_*_GROUPS). */
export interface ProfileAccessGroups {
  /** May read single profiles and pages of them, and accounts. */
  readonly readers: readonly string[];
  /** May ingest events and change tags. */
  readonly writers: readonly string[];
  /** May erase profiles. */
  readonly admins: readonly string[];
}

export const PROFILE_ACCESS_GROUPS = Symbol('ProfileAccessGroups');

/**
 * Who may do what with profiles: services may do everything; users only what their groups
 * allow; streaming every profile is for services alone. Checked before anything is read.
 */
export class ProfileAccess {
  constructor(private readonly groups: ProfileAccessGroups) {}

  mayRead(principal: Principal): void {
    if (!this.allowed(principal, this.groups.readers)) throw ProfileError.readDenied();
  }

  mayStream(principal: Principal): void {
    if (principal.kind !== 'service') throw ProfileError.streamDenied();
  }

  mayWrite(principal: Principal): void {
    if (!this.allowed(principal, this.groups.writers)) throw ProfileError.writeDenied();
  }

  mayErase(principal: Principal): void {
    if (!this.allowed(principal, this.groups.admins)) throw ProfileError.eraseDenied();
  }

  private allowed(principal: Principal, groups: readonly string[]): boolean {
    return principal.kind === 'service' || principal.groups.some((g) => groups.includes(g));
  }
}
