import type {
  GetProfileRequest,
  LookupProfileRequest,
  StreamProfilesRequest,
} from '@shoal/contracts';
import { ProfileService } from '@shoal/contracts';
import { type CallContext, GrpcService, type GrpcServiceHandlers } from '@shoal/platform';
import { ProfilesService } from './profiles.service';

/** ProfileService over gRPC: translation only. */
@GrpcService(ProfileService)
export class ProfilesGrpc implements GrpcServiceHandlers<typeof ProfileService> {
  constructor(private readonly profiles: ProfilesService) {}

  async getProfile(request: GetProfileRequest, { principal }: CallContext) {
    return { profile: await this.profiles.get(request.profileId, principal) };
  }

  async lookupProfile(request: LookupProfileRequest, { principal }: CallContext) {
    return { profile: await this.profiles.lookup(request.identity, principal) };
  }

  async *streamProfiles(request: StreamProfilesRequest, { principal }: CallContext) {
    const profiles = this.profiles.stream(request.afterProfileId, request.limit, principal);
    for await (const profile of profiles) yield { profile };
  }
}
