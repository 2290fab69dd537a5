import {
  type EraseProfileRequest,
  type GetAccountRequest,
  type GetProfileRequest,
  type IngestRequest,
  type IngestStreamRequest,
  type ListProfilesRequest,
  type LookupProfileRequest,
  ProfileService,
  type RemoveProfileTagsRequest,
  type SetProfileTagsRequest,
  type StreamProfilesRequest,
} from '@shoal/contracts';
import {
  type CallContext,
  GrpcService,
  type GrpcServiceHandlers,
  PageTokens,
  pageCursor,
  pageSize,
} from '@shoal/platform';
import { z } from 'zod';
import { ProfilesService } from '../profiles/profiles.service';
import { type IngestOutcome, UpstreamIngestService } from '../upstream/upstream-ingest.service';

/** Header naming the request, so a retried change keeps its source id. */
const REQUEST_ID = 'x-request-id';

// a profiles page token carries the last profile id: only that ever reaches a query
const PROFILES_PAGE = pageCursor('ingestion.profiles', z.string());

/** ProfileService over gRPC: translation only. */
@GrpcService(ProfileService)
export class ProfileServiceGrpc implements GrpcServiceHandlers<typeof ProfileService> {
  constructor(
    private readonly profiles: ProfilesService,
    private readonly upstream: UpstreamIngestService,
    private readonly pageTokens: PageTokens,
  ) {}

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

  async listProfiles(request: ListProfilesRequest, { principal }: CallContext) {
    const limit = pageSize(request.page?.pageSize ?? 0, 100, 1_000);
    const after = this.pageTokens.decode(PROFILES_PAGE, request.page?.pageToken ?? '', {}) ?? '';
    const profiles = await this.profiles.page(after, limit + 1, principal);
    const page = this.pageTokens.pageOf(PROFILES_PAGE, profiles, limit, (last) => last.id, {});
    return { profiles: page.items, nextPageToken: page.nextPageToken };
  }

  async ingest(request: IngestRequest, { principal }: CallContext) {
    this.upstream.mayIngest(principal);
    const outcome: IngestOutcome = { accepted: 0, rejected: [] };
    await this.upstream.ingest(request.events, 0, outcome);
    return outcome;
  }

  async ingestStream(requests: AsyncIterable<IngestStreamRequest>, { principal }: CallContext) {
    this.upstream.mayIngest(principal);
    const outcome: IngestOutcome = { accepted: 0, rejected: [] };
    let index = 0;
    for await (const request of requests) {
      await this.upstream.ingest(request.events, index, outcome);
      index += request.events.length;
    }
    return outcome;
  }

  async eraseProfile(request: EraseProfileRequest, { principal, header }: CallContext) {
    return this.profiles.erase(
      { profileId: request.profileId, identity: request.identity },
      principal,
      header(REQUEST_ID),
    );
  }

  async setProfileTags(request: SetProfileTagsRequest, { principal, header }: CallContext) {
    return {
      profile: await this.profiles.changeTags(
        request.profileId,
        request.tags,
        true,
        principal,
        header(REQUEST_ID),
      ),
    };
  }

  async removeProfileTags(request: RemoveProfileTagsRequest, { principal, header }: CallContext) {
    return {
      profile: await this.profiles.changeTags(
        request.profileId,
        request.tags,
        false,
        principal,
        header(REQUEST_ID),
      ),
    };
  }

  async getAccount(request: GetAccountRequest, { principal }: CallContext) {
    return { account: await this.profiles.account(request.accountId, principal) };
  }
}
