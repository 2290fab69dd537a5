import { Inject, Injectable } from '@nestjs/common';
import { SegmentService } from '@shoal/contracts';
import { CONFIG, type GrpcClient, ServiceClients } from '@shoal/platform';
import type { ExporterConfig } from '../service';
import type { SegmentUsageRegistry } from './peers.ports';
import { PeerError } from './peers.errors';

/** Destination usage recorded through the segments service's SetDestinationUsage. */
@Injectable()
export class SegmentsGrpcClient implements SegmentUsageRegistry {
  private client?: GrpcClient<typeof SegmentService>;

  constructor(
    private readonly clients: ServiceClients,
    @Inject(CONFIG) private readonly config: ExporterConfig,
  ) {}

  async setDestinationUsage(usage: {
    segmentId: string;
    destinationId: string;
    destinationName: string;
    autoSync: boolean;
    inUse: boolean;
  }): Promise<void> {
    this.client ??= this.clients.connect(SegmentService, this.config.EXPORTER_SEGMENTS_ADDRESS);
    try {
      await this.client.setDestinationUsage(usage);
    } catch (error) {
      throw PeerError.of('segments', error);
    }
  }
}
