import type { ExportCsvRequest } from '@shoal/contracts';
import type { CallContext } from '@shoal/platform';
import { Injectable } from '@nestjs/common';
import { CsvExportService } from './csv-export.service';

const utf8 = new TextEncoder();

/** ExportCsv over gRPC: translation only. */
@Injectable()
export class CsvGrpc {
  constructor(private readonly exports: CsvExportService) {}

  async *exportCsv(request: ExportCsvRequest, { principal, signal }: CallContext) {
    const chunks = await this.exports.open({
      segmentId: request.segmentId,
      columns: request.columns,
      principal,
      signal,
    });
    for await (const chunk of chunks) {
      yield { data: utf8.encode(chunk.text), rows: BigInt(chunk.rows) };
    }
  }
}
