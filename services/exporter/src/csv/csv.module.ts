import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import { PeersModule } from '../peers/peers.module';
import { SegmentsModule } from '../segments/segments.module';
import type { ExporterConfig } from '../service';
import { CsvDownloadServer } from './csv-download.server';
import { CSV_SETTINGS, type CsvSettings, CsvExportService } from './csv-export.service';
import { CsvGrpc } from './csv.grpc';

/** CSV exports of segment members: ExportCsv over gRPC and the HTTP download. */
@Module({
  imports: [SegmentsModule, PeersModule],
  providers: [
    {
      provide: CSV_SETTINGS,
      useFactory: (config: ExporterConfig): CsvSettings => ({
        pageSize: config.EXPORTER_CSV_PAGE_SIZE,
        maxColumns: config.EXPORTER_CSV_MAX_COLUMNS,
      }),
      inject: [CONFIG],
    },
    CsvExportService,
    CsvGrpc,
    CsvDownloadServer,
  ],
  exports: [CsvGrpc, CsvDownloadServer],
})
export class CsvModule {}
