import { DomainError, ErrorKind } from '@shoal/platform';

export enum ProfileErrorCode {
  NotFound = 'PROFILE_NOT_FOUND',
}

export class ProfileError extends DomainError {
  static notFound(what: string): ProfileError {
    return new ProfileError(ErrorKind.NotFound, ProfileErrorCode.NotFound, `no profile ${what}`);
  }
}
