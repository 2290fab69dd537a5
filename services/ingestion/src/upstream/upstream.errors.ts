import { DomainError, ErrorKind, type FieldViolation, ValidationError } from '@shoal/platform';

/**
 * Why an upstream event was refused: a record of the upstream topic is dead-lettered with the
 * reason, an event sent over Ingest is answered with it. Records with no value or an
 * undecodable protobuf value are refused by the platform's RecordError (EMPTY_VALUE, UNDECODABLE).
 */
export enum UpstreamErrorCode {
  InvalidJson = 'INVALID_JSON',
  /** Not a valid event: the violations name each field and what is wrong with it. */
  InvalidEvent = 'INVALID_EVENT',
  /** Its changes could not be published within the broker's record limit. */
  TooLarge = 'TOO_LARGE',
}

/** Every refusal of an upstream event, one factory each. */
export const UpstreamError = {
  /** `why`: what the JSON parser said. */
  invalidJson: (why: string) =>
    new DomainError(
      ErrorKind.InvalidArgument,
      UpstreamErrorCode.InvalidJson,
      `value is not JSON: ${why}`,
    ),

  invalidEvent: (violations: readonly FieldViolation[]) =>
    new ValidationError(violations, UpstreamErrorCode.InvalidEvent),

  /** `why`: which size is over which limit. */
  tooLarge: (why: string) =>
    new DomainError(ErrorKind.InvalidArgument, UpstreamErrorCode.TooLarge, why, [
      { field: '', description: why },
    ]),
};
