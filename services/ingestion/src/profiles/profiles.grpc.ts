import type {
  GetProfileRequest,
  LookupProfileRequest,
  StreamProfilesRequest,
} from '@shoal/contracts';
import { ProfileService } from '@shoal/contracts';
import { GrpcService, type GrpcServiceHandlers } from '@shoal/platform';
import { ProfilesService } from './profiles.service';

/** ProfileService over gRPC: translation only. */
@GrpcService(ProfileService)
export class ProfilesGrpc implements GrpcServiceHandlers<typeof ProfileService> {
  constructor(private readonly profiles: ProfilesService) {}

  async getProfile(request: GetProfileRequest) {
    return { profile: await this.profiles.get(request.profileId) };
  }

  async lookupProfile(request: LookupProfileRequest) {
    return { profile: await this.profiles.lookup(request.identity) };
  }

  async *streamProfiles(request: StreamProfilesRequest) {
    for await (const profile of this.profiles.stream(request.afterProfileId, request.limit))
      yield { profile };
  }
}
