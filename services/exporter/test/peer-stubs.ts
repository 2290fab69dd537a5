import { type DescService, create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  GetProfileResponseSchema,
  type ListMembersRequest,
  ListMembersResponseSchema,
  MembershipService,
  type Profile,
  ProfileSchema,
  ProfileService,
  type ListListMembersRequest,
  ListListMembersResponseSchema,
  SegmentService,
  SetDestinationUsageResponseSchema,
} from '@shoal/contracts';
import { decodeRequest, serverDefinition } from '@shoal/platform';

/**
 * Stand-ins for membership's ListMembers, segments' ListListMembers and ingestion's GetProfile, served over real gRPC from
 * generated data (nothing is held: member i and its profile are computed when asked), so an
 * export of any size can run without first ingesting and evaluating it.
 */
export class PeerStubs {
  private readonly server = new grpc.Server();
  address = '';
  profileReads = 0;

  constructor(
    private readonly members: (segmentId: string) => number,
    private readonly profileOf: (index: number) => Profile | undefined,
    /** Static lists: membership does not list them (NOT_FOUND), as the real service does not. */
    private readonly isList: (segmentId: string) => boolean = () => false,
  ) {}

  async start(): Promise<string> {
    this.server.addService(
      serverDefinition(MembershipService),
      this.handlers(MembershipService, {
        listMembers: (call: grpc.ServerWritableStream<Buffer, unknown>) => void this.list(call),
      }),
    );
    this.server.addService(
      serverDefinition(ProfileService),
      this.handlers(ProfileService, {
        getProfile: (
          call: grpc.ServerUnaryCall<Buffer, unknown>,
          callback: grpc.sendUnaryData<unknown>,
        ) => {
          this.profileReads++;
          const method = ProfileService.method.getProfile;
          const { profileId } = decodeRequest(method, call.request) as unknown as {
            profileId: string;
          };
          const profile = this.profileOf(Number(profileId.slice(1)));
          if (!profile) return callback({ code: grpc.status.NOT_FOUND, details: 'no profile' });
          callback(null, create(GetProfileResponseSchema, { profile }));
        },
      }),
    );
    this.server.addService(
      serverDefinition(SegmentService),
      this.handlers(SegmentService, {
        // the exporter registers each auto-syncing link as a use of its segment: accepted
        setDestinationUsage: (_: unknown, callback: grpc.sendUnaryData<unknown>) =>
          callback(null, create(SetDestinationUsageResponseSchema, {})),
        listListMembers: (
          call: grpc.ServerUnaryCall<Buffer, unknown>,
          callback: grpc.sendUnaryData<unknown>,
        ) => {
          const request = decodeRequest(
            SegmentService.method.listListMembers,
            call.request,
          ) as unknown as ListListMembersRequest;
          const total = this.members(request.listId);
          const start = Number(request.page?.pageToken || '1');
          const size = request.page?.pageSize || 1000;
          const end = Math.min(start + size, total + 1);
          const memberIds: string[] = [];
          for (let i = start; i < end; i++) memberIds.push(memberId(i));
          callback(
            null,
            create(ListListMembersResponseSchema, {
              memberIds,
              nextPageToken: end <= total ? String(end) : '',
            }),
          );
        },
      }),
    );
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private handlers(service: DescService, implementation: grpc.UntypedServiceImplementation) {
    return Object.fromEntries(
      service.methods.map((m) => [
        m.localName,
        implementation[m.localName] ??
          ((_: unknown, callback: grpc.sendUnaryData<unknown>) =>
            callback({ code: grpc.status.UNIMPLEMENTED })),
      ]),
    );
  }

  private async list(call: grpc.ServerWritableStream<Buffer, unknown>): Promise<void> {
    const request = decodeRequest(
      MembershipService.method.listMembers,
      call.request,
    ) as unknown as ListMembersRequest;
    if (this.isList(request.segmentId)) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: 'not a dynamic segment' });
      return;
    }
    const total = this.members(request.segmentId);
    const size = request.pageSize || 1000;
    for (let start = 1; start <= total; start += size) {
      const profileIds: string[] = [];
      for (let i = start; i < Math.min(start + size, total + 1); i++) profileIds.push(memberId(i));
      if (!call.write(create(ListMembersResponseSchema, { profileIds, cursor: `c${start}` })))
        await new Promise((resolve) => call.once('drain', resolve));
      if (call.cancelled) return;
    }
    call.end();
  }
}

export const memberId = (index: number) => `p${String(index).padStart(6, '0')}`;

/** A profile whose traits are hard for CSV: commas, quotes, newlines, emoji, formulas. */
export function awkwardProfile(index: number, padding = ''): Profile {
  return create(ProfileSchema, {
    id: memberId(index),
    identities: [
      { kind: 1, value: `user-${index}` },
      { kind: 3, trait: 'email', value: `m${index}@example.com` },
    ],
    traits: {
      name: `Member ${index}, "the" 🐟\nsecond line`,
      plan: index % 2 === 0 ? '=cmd|/c calc' : 'gold',
      note: padding,
    },
  });
}
