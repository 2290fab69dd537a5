import { Inject, Injectable } from '@nestjs/common';
import { type Account, IdentityKind, type Profile, type ProfileIdentity } from '@shoal/contracts';
import { type Principal, Violations } from '@shoal/platform';
import { identityKey } from './identities';
import { ProfileAccess } from './profile-access';
import { type Caller, ProfileIngestionService } from './profile-ingestion.service';
import { toAccount, toProfile } from './profile-messages';
import { ProfileError } from './profiles.errors';
import { PROFILE_REPOSITORY, type ProfileRepositoryPort } from './profiles.repository.port';

/** Tag names: 1–128 characters, no control characters. */
const TAG = /^[^\p{Cc}]{1,128}$/u;
const MAX_TAGS_PER_CALL = 100;

/** An identifier as a caller gives it; `trait` names the identifier trait of a trait identity. */
export type IdentityReference = Pick<ProfileIdentity, 'kind' | 'value'> & { trait?: string };

/** The profile a caller names: by its id, or by one of its identifiers. */
export interface ProfileReference {
  readonly profileId?: string;
  readonly identity?: IdentityReference | undefined;
}

/**
 * Reading profiles and accounts, and changing them on request (tags, erasure), with the
 * caller's authority checked first. Reads see this instance's working set, else the store (as
 * of its last checkpoint).
 */
@Injectable()
export class ProfilesService {
  constructor(
    private readonly ingestion: ProfileIngestionService,
    private readonly access: ProfileAccess,
    @Inject(PROFILE_REPOSITORY) private readonly profiles: ProfileRepositoryPort,
  ) {}

  async get(profileId: string, principal: Principal): Promise<Profile> {
    this.access.mayRead(principal);
    if (!profileId) new Violations().add('profileId', 'is required').throwIfAny();
    const profile = await this.ingestion.profile(profileId);
    if (!profile) throw ProfileError.notFound(`with id ${profileId}`);
    return toProfile(profile);
  }

  async lookup(identity: IdentityReference | undefined, principal: Principal): Promise<Profile> {
    this.access.mayRead(principal);
    const key = identityKeyOf(identity, 'identity');
    const profile = await this.ingestion.profileOfIdentity(key);
    if (!profile) throw ProfileError.notFound(`for ${describeIdentity(identity)}`);
    return toProfile(profile);
  }

  /** Every profile's traits in one call: only Shoal's services may. */
  stream(afterProfileId: string, limit: number, principal: Principal): AsyncIterable<Profile> {
    this.access.mayStream(principal);
    if (limit < 0) new Violations().add('limit', 'must not be negative').throwIfAny();
    const profiles = this.profiles.streamAfter(afterProfileId, limit);
    return (async function* () {
      for await (const state of profiles) yield toProfile(state);
    })();
  }

  /** Profiles in id order after `afterProfileId`, at most `limit`, as of the last checkpoint. */
  async page(afterProfileId: string, limit: number, principal: Principal): Promise<Profile[]> {
    this.access.mayRead(principal);
    const profiles: Profile[] = [];
    for await (const state of this.profiles.streamAfter(afterProfileId, limit))
      profiles.push(toProfile(state));
    return profiles;
  }

  async changeTags(
    profileId: string,
    tags: readonly string[],
    on: boolean,
    principal: Principal,
    requestId: string | undefined,
  ): Promise<Profile> {
    this.access.mayWrite(principal);
    const v = new Violations();
    if (!profileId) v.add('profileId', 'is required');
    if (tags.length === 0) v.add('tags', 'name at least one tag');
    if (tags.length > MAX_TAGS_PER_CALL) v.add('tags', `at most ${MAX_TAGS_PER_CALL} per call`);
    tags.forEach((tag, i) => {
      if (!TAG.test(tag))
        v.add(`tags[${i}]`, 'must be 1 to 128 characters, none of them control characters');
    });
    v.throwIfAny();
    const caller: Caller = { actor: principal.subject, ...(requestId ? { requestId } : {}) };
    const profile = await this.ingestion.changeTags(profileId, [...new Set(tags)], on, caller);
    return toProfile(profile);
  }

  /** Erases the profile a reference names; answers its id and those it had absorbed. */
  async erase(
    reference: ProfileReference,
    principal: Principal,
    requestId: string | undefined,
  ): Promise<{ profileId: string; absorbedProfileIds: string[] }> {
    this.access.mayErase(principal);
    const profileId = await this.resolve(reference);
    const caller: Caller = { actor: principal.subject, ...(requestId ? { requestId } : {}) };
    const erased = await this.ingestion.erase(profileId, caller);
    return { profileId: erased.id, absorbedProfileIds: [...erased.absorbed].sort() };
  }

  async account(accountId: string, principal: Principal): Promise<Account> {
    this.access.mayRead(principal);
    if (!accountId) new Violations().add('accountId', 'is required').throwIfAny();
    const account = await this.ingestion.account(accountId);
    if (!account) throw ProfileError.accountNotFound(accountId);
    return toAccount(account);
  }

  private async resolve(reference: ProfileReference): Promise<string> {
    const v = new Violations();
    if (!reference.profileId && !reference.identity)
      v.add('profileId', 'name the profile by its id or by one of its identifiers');
    if (reference.profileId && reference.identity)
      v.add('identity', 'name the profile by its id or by an identifier, not both');
    v.throwIfAny();
    if (reference.profileId) return reference.profileId;
    const key = identityKeyOf(reference.identity, 'identity');
    const profile = await this.ingestion.profileOfIdentity(key);
    if (!profile) throw ProfileError.notFound(`for ${describeIdentity(reference.identity)}`);
    return profile.id;
  }
}

function identityKeyOf(identity: IdentityReference | undefined, field: string): string {
  const v = new Violations();
  if (!identity) v.add(field, 'is required');
  else {
    if (identity.kind === IdentityKind.UNSPECIFIED)
      v.add(
        `${field}.kind`,
        'must be IDENTITY_KIND_USER_ID, IDENTITY_KIND_ANONYMOUS_ID or IDENTITY_KIND_TRAIT',
      );
    if (!identity.value) v.add(`${field}.value`, 'is required');
    if (identity.kind === IdentityKind.TRAIT && !identity.trait)
      v.add(`${field}.trait`, 'names the identifier trait, e.g. email');
  }
  v.throwIfAny();
  const { kind, value, trait } = identity as ProfileIdentity;
  return identityKey({ kind, value, ...(trait ? { trait } : {}) });
}

function describeIdentity(identity: IdentityReference | undefined): string {
  if (!identity) return 'that identifier';
  const kind = IdentityKind[identity.kind] ?? String(identity.kind);
  return identity.trait
    ? `${kind} ${identity.trait} ${identity.value}`
    : `${kind} ${identity.value}`;
}
