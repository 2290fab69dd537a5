import { DomainError, ErrorKind, type FieldViolation, describeViolations } from '@shoal/platform';

export enum CsvExportErrorCode {
  InvalidArgument = 'INVALID_ARGUMENT',
}

/** What a CSV export refuses. */
export class CsvExportError extends DomainError {
  static invalid(violations: readonly FieldViolation[]): CsvExportError {
    return new CsvExportError(
      ErrorKind.InvalidArgument,
      CsvExportErrorCode.InvalidArgument,
      describeViolations(violations),
      violations,
    );
  }
}
