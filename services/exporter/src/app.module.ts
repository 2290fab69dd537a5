import { Module } from '@nestjs/common';
import { CsvModule } from './csv/csv.module';
import { DestinationsModule } from './destinations/destinations.module';
import { ExportServiceGrpc } from './export-service.grpc';

/** The exporter: CSV exports and destinations, composed into ExportService. */
@Module({
  imports: [CsvModule, DestinationsModule],
  providers: [ExportServiceGrpc],
})
export class AppModule {}
