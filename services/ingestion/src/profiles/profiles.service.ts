import { Inject, Injectable } from '@nestjs/common';
import type { Profile, ProfileIdentity, UpstreamEvent } from '@shoal/contracts';
import { IdentityKind } from '@shoal/contracts';
import { type Principal, Violations } from '@shoal/platform';
import { profileChangesFrom, profileIdOf } from './profile-changes';
import { ProfileError } from './profiles.errors';
import { PROFILE_REPOSITORY, type ProfileRepositoryPort } from './profiles.repository';

/** Who may read profiles besides Shoal's services: users in one of these groups. */
export interface ProfileReaders {
  readonly groups: readonly string[];
}

export const PROFILE_READERS = Symbol('ProfileReaders');

@Injectable()
export class ProfilesService {
  constructor(
    @Inject(PROFILE_REPOSITORY) private readonly profiles: ProfileRepositoryPort,
    @Inject(PROFILE_READERS) private readonly readers: ProfileReaders,
  ) {}

  /** Applies a batch of upstream events to the profiles they address; idempotent. */
  async ingest(events: readonly UpstreamEvent[]): Promise<void> {
    await this.profiles.applyChanges(profileChangesFrom(events));
  }

  async get(profileId: string, principal: Principal): Promise<Profile> {
    this.mayRead(principal);
    if (!profileId) new Violations().add('profileId', 'is required').throwIfAny();
    const profile = await this.profiles.findById(profileId);
    if (!profile) throw ProfileError.notFound(`with id ${profileId}`);
    return profile;
  }

  /** Every profile's traits in one call: only Shoal's services may. */
  stream(afterProfileId: string, limit: number, principal: Principal): AsyncIterable<Profile> {
    if (principal.kind !== 'service') throw ProfileError.streamDenied();
    if (limit < 0) new Violations().add('limit', 'must not be negative').throwIfAny();
    return this.profiles.streamAfter(afterProfileId, limit);
  }

  async lookup(
    identity: Pick<ProfileIdentity, 'kind' | 'value'> | undefined,
    principal: Principal,
  ): Promise<Profile> {
    this.mayRead(principal);
    const v = new Violations();
    if (!identity) v.add('identity', 'is required');
    else {
      if (identity.kind !== IdentityKind.USER_ID && identity.kind !== IdentityKind.ANONYMOUS_ID) {
        v.add('identity.kind', 'must be IDENTITY_KIND_USER_ID or IDENTITY_KIND_ANONYMOUS_ID');
      }
      if (!identity.value) v.add('identity.value', 'is required');
    }
    v.throwIfAny();
    const id = identity as Pick<ProfileIdentity, 'kind' | 'value'>;
    const profile = await this.profiles.findById(profileIdOf(id));
    if (!profile) throw ProfileError.notFound(`for ${IdentityKind[id.kind]} ${id.value}`);
    return profile;
  }

  private mayRead(principal: Principal): void {
    if (principal.kind === 'service') return;
    if (principal.groups.some((group) => this.readers.groups.includes(group))) return;
    throw ProfileError.readDenied();
  }
}
