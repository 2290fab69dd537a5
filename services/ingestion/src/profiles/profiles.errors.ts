import { DomainError, ErrorKind } from '@shoal/platform';

/** Why a profile or account request, or a record applied to profiles, was refused. */
export enum ProfileErrorCode {
  NotFound = 'PROFILE_NOT_FOUND',
  AccountNotFound = 'ACCOUNT_NOT_FOUND',
  ReadDenied = 'PROFILE_READ_DENIED',
  StreamDenied = 'PROFILE_STREAM_DENIED',
  WriteDenied = 'PROFILE_WRITE_DENIED',
  EraseDenied = 'PROFILE_ERASE_DENIED',
  /** A record would give one profile more identifiers than INGEST_MAX_IDENTITIES (dead-lettered). */
  IdentityLimit = 'IDENTITY_LIMIT',
  /**
   * Too many profiles wait for checkpoints (INGEST_MAX_PENDING_PROFILES): a batch is handed back
   * to be retried later, unapplied, so its consumer backs off (and heartbeats) instead of waiting.
   */
  CheckpointsBehind = 'CHECKPOINTS_BEHIND',
}

const denied = (reason: ProfileErrorCode, message: string) =>
  new DomainError(ErrorKind.PermissionDenied, reason, message);

/** Every refusal about profiles and accounts, one factory each. */
export const ProfileError = {
  /** `what` completes `no profile …`: "with id p_1", "for user id u_1". */
  notFound: (what: string) =>
    new DomainError(ErrorKind.NotFound, ProfileErrorCode.NotFound, `no profile ${what}`),

  accountNotFound: (accountId: string) =>
    new DomainError(
      ErrorKind.NotFound,
      ProfileErrorCode.AccountNotFound,
      `no account with id ${accountId}`,
    ),

  readDenied: () =>
    denied(
      ProfileErrorCode.ReadDenied,
      'reading profiles needs a service token or membership of a profile reader group',
    ),

  streamDenied: () =>
    denied(ProfileErrorCode.StreamDenied, 'streaming every profile is for Shoal services only'),

  writeDenied: () =>
    denied(
      ProfileErrorCode.WriteDenied,
      'ingesting events and changing tags needs a service token or membership of a profile writer group',
    ),

  eraseDenied: () =>
    denied(
      ProfileErrorCode.EraseDenied,
      'erasing profiles needs a service token or membership of a profile admin group',
    ),

  /** `what` is what would reach the limit: "it" (the record) or "merging p_1, p_2". */
  identityLimit: (what: string, identifiers: number, limit: number) =>
    new DomainError(
      ErrorKind.ResourceExhausted,
      ProfileErrorCode.IdentityLimit,
      `${what} would give one profile ${identifiers} identifiers; ` +
        `INGEST_MAX_IDENTITIES allows ${limit}`,
    ),

  checkpointsBehind: (pending: number, waitedMs: number) =>
    new DomainError(
      ErrorKind.Unavailable,
      ProfileErrorCode.CheckpointsBehind,
      `${pending} profiles (and records being loaded) still wait for a checkpoint after ${waitedMs} ms ` +
        '(INGEST_MAX_PENDING_PROFILES); the batch is retried later',
    ),
};
