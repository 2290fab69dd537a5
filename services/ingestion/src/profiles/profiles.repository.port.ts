import type { ProfileState } from './profile-state';
import type { DirtyProfile } from './working-set';

export const PROFILE_REPOSITORY = Symbol('ProfileRepository');

/** A profile and which of its parts changed since it was last written. */
export interface ProfileWrite {
  readonly state: ProfileState;
  readonly dirty: DirtyProfile;
}

/**
 * Where profiles are kept. Writes are joins: each changed part is merged into the stored
 * document by the profile's lattice rules, so two instances writing one profile, or one write
 * repeated, never lose anything. Everything is addressed by id.
 */
export interface ProfileRepositoryPort {
  /** The stored profiles among `ids` (absent ones are missing from the answer). */
  load(ids: readonly string[]): Promise<Map<string, ProfileState>>;
  /**
   * Joins the changed parts of each profile into its document, creating missing documents;
   * answers the ids whose document did not exist.
   */
  write(writes: readonly ProfileWrite[]): Promise<Set<string>>;
  delete(ids: readonly string[]): Promise<void>;
  /** Profiles in id order after `afterId` (exclusive; empty: from the first), at most `limit` (0: all). */
  streamAfter(afterId: string, limit: number): AsyncIterable<ProfileState>;
}
