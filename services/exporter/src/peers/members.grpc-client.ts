import { Inject, Injectable } from '@nestjs/common';
import { MembershipService, SegmentKind, SegmentService } from '@shoal/contracts';
import { CONFIG, type GrpcClient, ServiceClients } from '@shoal/platform';
import type { ExporterConfig } from '../service';
import type { MemberSet, MemberSource } from './peers.ports';
import { PeerError } from './peers.errors';

/**
 * Members with the exporter's service token: a dynamic segment's from the membership service's
 * ListMembers stream, a static list's from the segments service's ListListMembers pages.
 */
@Injectable()
export class MembersGrpcClient implements MemberSource {
  private client?: GrpcClient<typeof MembershipService>;
  private lists?: GrpcClient<typeof SegmentService>;

  constructor(
    private readonly clients: ServiceClients,
    @Inject(CONFIG) private readonly config: ExporterConfig,
  ) {}

  pages(segment: MemberSet, pageSize: number, signal?: AbortSignal): AsyncIterable<string[]> {
    return segment.kind === SegmentKind.STATIC_LIST
      ? this.listPages(segment.id, pageSize)
      : this.memberPages(segment.id, pageSize, signal);
  }

  private async *listPages(listId: string, pageSize: number) {
    this.lists ??= this.clients.connect(SegmentService, this.config.EXPORTER_SEGMENTS_ADDRESS);
    let pageToken = '';
    do {
      let page;
      try {
        page = await this.lists.listListMembers({ listId, page: { pageSize, pageToken } });
      } catch (error) {
        throw PeerError.of('segments', error);
      }
      if (page.memberIds.length > 0) yield page.memberIds;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  private async *memberPages(segmentId: string, pageSize: number, signal?: AbortSignal) {
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
