import { type JsonObject, create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { type Account, AccountSchema, type Profile, ProfileSchema } from '@shoal/contracts';
import type { AccountState } from '../accounts/account-state';
import { type ProfileState, accountsOf, tagsOf } from './profile-state';

/** A profile as ProfileService answers it: current values, no stamps. */
export function toProfile(state: ProfileState): Profile {
  return create(ProfileSchema, {
    id: state.id,
    identities: [...state.identities.values()].map((i) => ({
      kind: i.kind,
      value: i.value,
      trait: i.trait ?? '',
    })),
    traits: Object.fromEntries(
      [...state.traits].map(([key, entry]) => [key, entry.v]),
    ) as JsonObject,
    accountIds: accountsOf(state),
    firstSeenAt: timestampFromMs(state.firstSeenAt),
    lastSeenAt: timestampFromMs(state.lastSeenAt),
    tags: tagsOf(state),
    absorbedProfileIds: [...state.absorbed].sort(),
    incarnation: state.incarnation,
  });
}

export function toAccount(state: AccountState): Account {
  return create(AccountSchema, {
    id: state.id,
    traits: Object.fromEntries(
      [...state.traits].map(([key, entry]) => [key, entry.v]),
    ) as JsonObject,
    firstSeenAt: timestampFromMs(state.firstSeenAt),
    lastSeenAt: timestampFromMs(state.lastSeenAt),
  });
}
