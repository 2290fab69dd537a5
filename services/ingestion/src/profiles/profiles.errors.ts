import { DomainError, ErrorKind } from '@shoal/platform';

export enum ProfileErrorCode {
  NotFound = 'PROFILE_NOT_FOUND',
  AccountNotFound = 'ACCOUNT_NOT_FOUND',
  ReadDenied = 'PROFILE_READ_DENIED',
  StreamDenied = 'PROFILE_STREAM_DENIED',
  WriteDenied = 'PROFILE_WRITE_DENIED',
  EraseDenied = 'PROFILE_ERASE_DENIED',
}

/** Refusals about profiles and accounts, one factory per refusal. */
export class ProfileError extends DomainError {
  static notFound(what: string): ProfileError {
    return new ProfileError(ErrorKind.NotFound, ProfileErrorCode.NotFound, `no profile ${what}`);
  }

  static accountNotFound(accountId: string): ProfileError {
    return new ProfileError(
      ErrorKind.NotFound,
      ProfileErrorCode.AccountNotFound,
      `no account with id ${accountId}`,
    );
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

  static writeDenied(): ProfileError {
    return new ProfileError(
      ErrorKind.PermissionDenied,
      ProfileErrorCode.WriteDenied,
      'ingesting events and changing tags needs a service token or membership of a profile writer group',
    );
  }

  static eraseDenied(): ProfileError {
    return new ProfileError(
      ErrorKind.PermissionDenied,
      ProfileErrorCode.EraseDenied,
      'erasing profiles needs a service token or membership of a profile admin group',
    );
  }
}
