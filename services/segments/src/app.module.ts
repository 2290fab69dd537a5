import { Module } from '@nestjs/common';
import { SegmentStatusModule } from './segment-status/segment-status.module';
import { SegmentServiceGrpc } from './segment-service.grpc';
import { SegmentsModule } from './segments/segments.module';
import { StaticListsModule } from './static-lists/static-lists.module';
import { TemplatesModule } from './templates/templates.module';

/** The segments service: its feature modules, composed into SegmentService. */
@Module({
  imports: [SegmentsModule, StaticListsModule, TemplatesModule, SegmentStatusModule],
  providers: [SegmentServiceGrpc],
})
export class AppModule {}
