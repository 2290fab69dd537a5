import { Module } from '@nestjs/common';
import { SegmentsModule } from '../segments/segments.module';
import { TemplatesGrpc } from './templates.grpc';
import { TemplatesService } from './templates.service';

/** Segments from named, parameterised rules (the product's examples). */
@Module({
  imports: [SegmentsModule],
  providers: [TemplatesService, TemplatesGrpc],
  exports: [TemplatesGrpc],
})
export class TemplatesModule {}
