import { SegmentService } from '@shoal/contracts';
import { GrpcService, type GrpcServiceHandlers, serveFrom } from '@shoal/platform';
import { SegmentsGrpc } from './segments/segments.grpc';
import { StaticListsGrpc } from './static-lists/static-lists.grpc';
import { TemplatesGrpc } from './templates/templates.grpc';

/**
 * SegmentService as served: the one place its RPCs meet, each answered by the adapter of the
 * feature that owns it. The compiler checks that every RPC is served.
 */
@GrpcService(SegmentService)
export class SegmentServiceGrpc {
  constructor(segments: SegmentsGrpc, lists: StaticListsGrpc, templates: TemplatesGrpc) {
    const handlers: GrpcServiceHandlers<typeof SegmentService> = serveFrom(
      SegmentService,
      segments,
      lists,
      templates,
    );
    Object.assign(this, handlers);
  }
}
