/**
 * The outcome categories a domain error maps to. The gRPC edge turns them into status codes,
 * the Kafka edge into "retry" (transient) or "dead-letter" (permanent).
 */
export enum ErrorKind {
  InvalidArgument = 'INVALID_ARGUMENT',
  NotFound = 'NOT_FOUND',
  AlreadyExists = 'ALREADY_EXISTS',
  FailedPrecondition = 'FAILED_PRECONDITION',
  /** Optimistic concurrency lost: the caller should re-read and retry. */
  Aborted = 'ABORTED',
  PermissionDenied = 'PERMISSION_DENIED',
  Unauthenticated = 'UNAUTHENTICATED',
  ResourceExhausted = 'RESOURCE_EXHAUSTED',
  /** A dependency is down; retrying later may succeed. */
  Unavailable = 'UNAVAILABLE',
  Internal = 'INTERNAL',
}

/** One problem with one field, addressed by its path in the request's JSON form. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/**
 * Every error a feature raises on purpose. A feature declares its reason codes and one factory
 * per refusal in its `*.errors.ts` (e.g. `SegmentError.locked(id, …)` with `SEGMENT_LOCKED`),
 * each making a DomainError (invalid input: a ValidationError); edges translate by `kind`, so
 * no adapter needs to know feature errors, and no feature needs a subclass.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable reason, e.g. "SEGMENT_LOCKED". */
    readonly reason: string,
    message: string,
    readonly violations: readonly FieldViolation[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Transient errors are retried by consumers for as long as needed; all others are permanent. */
  get transient(): boolean {
    return this.kind === ErrorKind.Unavailable || this.kind === ErrorKind.Aborted;
  }
}

/** A request or record that is malformed; lists every bad field at once. */
export class ValidationError extends DomainError {
  constructor(violations: readonly FieldViolation[], reason = 'INVALID_ARGUMENT') {
    super(ErrorKind.InvalidArgument, reason, describeViolations(violations), violations);
  }
}

/**
 * A configured limit refused a request: RESOURCE_EXHAUSTED with reason LIMIT_EXCEEDED, the
 * message naming the limit and its value. `what` says what reached it.
 */
export function limitExceeded(limit: string, value: number, what: string): DomainError {
  return new DomainError(
    ErrorKind.ResourceExhausted,
    'LIMIT_EXCEEDED',
    `${what}: the limit ${limit} is ${value}`,
  );
}

export function describeViolations(violations: readonly FieldViolation[]): string {
  if (violations.length === 0) return 'invalid request';
  return violations
    .map((v) => (v.field ? `${v.field}: ${v.description}` : v.description))
    .join('; ');
}

/**
 * Collects field violations while validating, so a caller gets all problems in one answer.
 */
export class Violations {
  private readonly list: FieldViolation[] = [];

  add(field: string, description: string): this {
    this.list.push({ field, description });
    return this;
  }

  get all(): readonly FieldViolation[] {
    return this.list;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Throws a ValidationError when anything was collected. */
  throwIfAny(reason?: string): void {
    if (!this.empty) throw new ValidationError(this.list, reason);
  }
}
