import { Module } from '@nestjs/common';
import { SegmentServiceGrpc } from './segment-service.grpc';
import { SegmentsModule } from './segments/segments.module';
import { StaticListsModule } from './static-lists/static-lists.module';
import { TemplatesModule } from './templates/templates.module';

/** The segments service: its feature modules, composed into SegmentService. */
@Module({
  imports: [SegmentsModule, StaticListsModule, TemplatesModule],
  providers: [SegmentServiceGrpc],
})
export class AppModule {}
