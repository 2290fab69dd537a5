import type { JsonValue } from '@bufbuild/protobuf';
import { IdentityKind, type Profile } from '@shoal/contracts';
import { traitAt } from '../csv/csv-columns';
import type { SyncRecord } from './destination-kind';

/** The identifier trait records carry beside user ids. */
export const EMAIL_TRAIT = 'email';

/**
 * A record with what a destination acts on: the profile's user ids and email identifiers, and
 * the link's selected traits (by dotted path; a trait the profile lacks is left out). A profile
 * that no longer exists (erased, merged away) gives empty identities and no traits.
 */
export function withProfile(
  record: SyncRecord,
  profile: Profile | undefined,
  traits: readonly string[],
): SyncRecord {
  const identities = (kind: IdentityKind, trait?: string) =>
    (profile?.identities ?? [])
      .filter((i) => i.kind === kind && (trait === undefined || i.trait === trait))
      .map((i) => i.value);
  const selected: Record<string, JsonValue> = {};
  for (const path of traits) {
    const value = profile ? traitAt(profile.traits, path) : undefined;
    if (value !== undefined) selected[path] = value;
  }
  return {
    ...record,
    identities: {
      userIds: identities(IdentityKind.USER_ID),
      emails: identities(IdentityKind.TRAIT, EMAIL_TRAIT),
    },
    traits: selected,
  };
}
