import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { DomainError, ErrorKind, ValidationError } from '../errors/domain-error';
import { GrpcCallError, toGrpcFailure } from './status';

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
});
