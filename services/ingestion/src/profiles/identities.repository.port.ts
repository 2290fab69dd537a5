export const IDENTITY_REPOSITORY = Symbol('IdentityRepository');

/**
 * The identity graph: which profile each identifier (user:…, anon:…, trait:…) belongs to, by
 * the identifier's key. A new identifier is claimed, and the first claim wins.
 */
export interface IdentityRepositoryPort {
  /**
   * Claims each unclaimed identifier for the profile given; answers the owners of those that
   * were claimed already (so the others are now the given profiles').
   */
  claim(claims: ReadonlyMap<string, string>): Promise<Map<string, string>>;
  /** The owners of those identifiers that have one. */
  find(keys: readonly string[]): Promise<Map<string, string>>;
  /** Points identifiers at profiles (a merge moves them to the survivor). */
  assign(owners: ReadonlyMap<string, string>): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
}
