import { ExportService } from '@shoal/contracts';
import { GrpcService, type GrpcServiceHandlers, serveFrom } from '@shoal/platform';
import { CsvGrpc } from './csv/csv.grpc';
import { DestinationsGrpc } from './destinations/destinations.grpc';

/**
 * ExportService as served: each RPC answered by the adapter of the feature that owns it. The
 * compiler checks that every RPC is served.
 */
@GrpcService(ExportService)
export class ExportServiceGrpc {
  constructor(csv: CsvGrpc, destinations: DestinationsGrpc) {
    const handlers: GrpcServiceHandlers<typeof ExportService> = serveFrom(
      ExportService,
      csv,
      destinations,
    );
    Object.assign(this, handlers);
  }
}
