import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { DomainError, ErrorKind, ValidationError } from '../errors/domain-error';
import { ERROR_DETAILS_TRAILER, ERROR_LIMITS, GrpcCallError, toGrpcFailure } from './status';

describe('gRPC status mapping', () => {
  it('maps a validation error to INVALID_ARGUMENT carrying every field path', () => {
    const failure = toGrpcFailure(
      new ValidationError([
        { field: 'segment.name', description: 'is required' },
        { field: 'segment.rule.all.conditions[1].event.name', description: 'is required' },
      ]),
    );
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain('segment.rule.all.conditions[1].event.name');
    const seen = GrpcCallError.from({ ...failure, name: 'x', message: 'x' } as ServiceError);
    expect(seen.violations.map((v) => v.field)).toEqual([
      'segment.name',
      'segment.rule.all.conditions[1].event.name',
    ]);
    expect(seen.reason).toBe('INVALID_ARGUMENT');
  });

  it.each([
    [ErrorKind.NotFound, status.NOT_FOUND],
    [ErrorKind.FailedPrecondition, status.FAILED_PRECONDITION],
    [ErrorKind.Aborted, status.ABORTED],
    [ErrorKind.PermissionDenied, status.PERMISSION_DENIED],
    [ErrorKind.Unauthenticated, status.UNAUTHENTICATED],
    [ErrorKind.Unavailable, status.UNAVAILABLE],
  ])('maps %s to its status code', (kind, code) => {
    expect(toGrpcFailure(new DomainError(kind, 'R', 'm')).code).toBe(code);
  });

  it('hides the message of an unexpected error', () => {
    const failure = toGrpcFailure(new Error('connection string mongodb://u:p@h'));
    expect(failure).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
    expect(failure.metadata).toBeInstanceOf(Metadata);
  });

  const received = (failure: ReturnType<typeof toGrpcFailure>) =>
    GrpcCallError.from({ ...failure, name: 'x', message: 'x' } as ServiceError);

  it('bounds a message that echoes a huge value, so any client can receive the status', () => {
    const id = 'x'.repeat(1_000_000);
    const failure = toGrpcFailure(new DomainError(ErrorKind.NotFound, 'NOT_FOUND', `no ${id}`));
    expect(failure.code).toBe(status.NOT_FOUND);
    expect(Buffer.byteLength(failure.details)).toBeLessThanOrEqual(ERROR_LIMITS.messageBytes);
    expect(failure.details).toMatch(/^no x+… \(truncated\)$/);
  });

  it('bounds the details trailer however many and however long the violations are', () => {
    const violations = Array.from({ length: 1_000 }, (_, i) => ({
      field: `items[${i}].${'f'.repeat(5_000)}`,
      description: `is ${'bad '.repeat(5_000)}`,
    }));
    const failure = toGrpcFailure(new ValidationError(violations));
    const trailer = failure.metadata.get(ERROR_DETAILS_TRAILER)[0] as Buffer;
    expect(trailer.length).toBeLessThanOrEqual(ERROR_LIMITS.detailsBytes);
    const seen = received(failure);
    expect(seen.violations.length).toBeGreaterThan(1);
    expect(seen.violations[0]?.field.startsWith('items[0].fff')).toBe(true);
    expect(seen.violations.at(-1)?.description).toMatch(/^and \d+ more problems$/);
    expect(Buffer.byteLength(seen.details)).toBeLessThanOrEqual(ERROR_LIMITS.messageBytes);
  });

  it('cuts long text between characters, never inside one', () => {
    const failure = toGrpcFailure(
      new DomainError(ErrorKind.InvalidArgument, 'R', `bad ${'é😀'.repeat(10_000)}`),
    );
    expect(failure.details).not.toContain('\uFFFD');
    expect(Buffer.from(failure.details, 'utf8').toString('utf8')).toBe(failure.details);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(failure.details)).toBe(false);
  });
});
