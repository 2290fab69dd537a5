import { Inject, Injectable } from '@nestjs/common';
import { MembershipService } from '@shoal/contracts';
import { CONFIG, type GrpcClient, ServiceClients } from '@shoal/platform';
import type { ExporterConfig } from '../service';
import type { MemberSource } from './peers.ports';
import { PeerError } from './peers.errors';

/** Members from the membership service's ListMembers, with the exporter's service token. */
@Injectable()
export class MembershipGrpcClient implements MemberSource {
  private client?: GrpcClient<typeof MembershipService>;

  constructor(
    private readonly clients: ServiceClients,
    @Inject(CONFIG) private readonly config: ExporterConfig,
  ) {}

  async *pages(segmentId: string, pageSize: number, signal?: AbortSignal) {
    this.client ??= this.clients.connect(
      MembershipService,
      this.config.EXPORTER_MEMBERSHIP_ADDRESS,
    );
    // a page may take long to arrive on a big segment; the stream as a whole has no deadline
    const stream = this.client.listMembers(
      { segmentId, pageSize },
      { deadlineMs: 0, ...(signal ? { signal } : {}) },
    );
    try {
      for await (const page of stream) {
        if (page.profileIds.length > 0) yield page.profileIds;
      }
    } catch (error) {
      throw PeerError.of('membership', error);
    }
  }
}
