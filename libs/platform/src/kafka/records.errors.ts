import { DomainError, ErrorKind } from '../errors/domain-error';

/** Why a record cannot be consumed or published; a dead letter carries it as its reason. */
export enum RecordErrorCode {
  EmptyValue = 'EMPTY_VALUE',
  Undecodable = 'UNDECODABLE',
  TooLarge = 'RECORD_TOO_LARGE',
}

/**
 * Every refusal of a record, one factory each. A consumed record refused this way can never be
 * processed (it is dead-lettered); one too large to publish is refused by the broker for good.
 */
export const RecordError = {
  emptyValue: () =>
    new DomainError(ErrorKind.InvalidArgument, RecordErrorCode.EmptyValue, 'record has no value'),

  /** `why`: what the decoder said. */
  undecodable: (typeName: string, why: string) =>
    new DomainError(
      ErrorKind.InvalidArgument,
      RecordErrorCode.Undecodable,
      `value is not a valid ${typeName}: ${why}`,
    ),

  tooLarge: (topic: string, size: number, limit: number) =>
    new DomainError(
      ErrorKind.ResourceExhausted,
      RecordErrorCode.TooLarge,
      `record for ${topic} is ${size} bytes; KAFKA_MAX_MESSAGE_BYTES allows ${limit}`,
    ),
};

/** Whether an error is the refusal of a record too large to publish. */
export function isRecordTooLarge(error: unknown): boolean {
  return error instanceof DomainError && error.reason === RecordErrorCode.TooLarge;
}
