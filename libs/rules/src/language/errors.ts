/** Why a rule (or a part of one) was refused by validation. */
export enum RuleViolationCode {
  Required = 'REQUIRED',
  EmptyGroup = 'EMPTY_GROUP',
  InvalidValue = 'INVALID_VALUE',
  InvalidPath = 'INVALID_PATH',
  InvalidTimeZone = 'INVALID_TIME_ZONE',
  InvalidDate = 'INVALID_DATE',
  LimitExceeded = 'LIMIT_EXCEEDED',
  WindowTooLong = 'WINDOW_TOO_LONG',
  NotAllowedHere = 'NOT_ALLOWED_HERE',
  UnknownSegment = 'UNKNOWN_SEGMENT',
  AudienceMismatch = 'AUDIENCE_MISMATCH',
  SegmentCycle = 'SEGMENT_CYCLE',
  Unparseable = 'UNPARSEABLE',
}

/** One problem with a rule, located by its path in the rule's JSON form. */
export interface RuleViolation {
  /** e.g. `condition.all.conditions[2].event.window.lastDays`; empty for the whole rule. */
  readonly path: string;
  /** What is wrong, in words a rule author can act on. */
  readonly message: string;
  readonly code: RuleViolationCode;
}

/** Programming errors: the caller broke a precondition of the library. */
export enum RuleErrorCode {
  /** A rule that does not pass validation was compiled, evaluated or explained. */
  InvalidRule = 'INVALID_RULE',
  /** An argument is malformed (a non-finite instant, an unknown time zone, ...). */
  InvalidArgument = 'INVALID_ARGUMENT',
  /** Segment references form a cycle where an order was required. */
  SegmentCycle = 'SEGMENT_CYCLE',
}

export class RuleError extends Error {
  constructor(
    readonly code: RuleErrorCode,
    message: string,
    readonly violations: readonly RuleViolation[] = [],
  ) {
    super(message);
    this.name = 'RuleError';
  }
}

/** Makes a switch over a oneof exhaustive: adding a case breaks the build until it is handled. */
export function assertNever(value: never, what: string): never {
  throw new RuleError(RuleErrorCode.InvalidArgument, `unhandled ${what}: ${JSON.stringify(value)}`);
}
