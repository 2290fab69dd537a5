import { DomainError, ErrorKind } from '@shoal/platform';

export enum ProfileErrorCode {
  NotFound = 'PROFILE_NOT_FOUND',
  ReadDenied = 'PROFILE_READ_DENIED',
  StreamDenied = 'PROFILE_STREAM_DENIED',
}

export class ProfileError extends DomainError {
  static notFound(what: string): ProfileError {
    return new ProfileError(ErrorKind.NotFound, ProfileErrorCode.NotFound, `no profile ${what}`);
  }

  static readDenied(): ProfileError {
    return new ProfileError(
      ErrorKind.PermissionDenied,
      ProfileErrorCode.ReadDenied,
      'reading profiles needs a service token or membership of a profile reader group',
    );
  }

  static streamDenied(): ProfileError {
    return new ProfileError(
      ErrorKind.PermissionDenied,
      ProfileErrorCode.StreamDenied,
      'streaming every profile is for Shoal services only',
    );
  }
}
