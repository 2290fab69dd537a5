import { Inject, Injectable } from '@nestjs/common';
import type { Profile, ProfileIdentity, UpstreamEvent } from '@shoal/contracts';
import { IdentityKind } from '@shoal/contracts';
import { Violations } from '@shoal/platform';
import { profileChangesFrom, profileIdOf } from './profile-changes';
import { ProfileError } from './profiles.errors';
import { PROFILE_REPOSITORY, type ProfileRepositoryPort } from './profiles.repository';

@Injectable()
export class ProfilesService {
  constructor(@Inject(PROFILE_REPOSITORY) private readonly profiles: ProfileRepositoryPort) {}

  /** Applies a batch of upstream events to the profiles they address; idempotent. */
  async ingest(events: readonly UpstreamEvent[]): Promise<void> {
    await this.profiles.applyChanges(profileChangesFrom(events));
  }

  async get(profileId: string): Promise<Profile> {
    if (!profileId) new Violations().add('profileId', 'is required').throwIfAny();
    const profile = await this.profiles.findById(profileId);
    if (!profile) throw ProfileError.notFound(`with id ${profileId}`);
    return profile;
  }

  stream(afterProfileId: string, limit: number): AsyncIterable<Profile> {
    if (limit < 0) new Violations().add('limit', 'must not be negative').throwIfAny();
    return this.profiles.streamAfter(afterProfileId, limit);
  }

  async lookup(identity: Pick<ProfileIdentity, 'kind' | 'value'> | undefined): Promise<Profile> {
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
}
