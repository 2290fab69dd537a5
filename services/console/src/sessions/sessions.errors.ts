import { DomainError, ErrorKind, ValidationError } from '@shoal/platform';

export const SessionErrorReason = {
  DevSignInOff: 'DEV_SIGN_IN_OFF',
  SignedOut: 'SIGNED_OUT',
} as const;

export const SessionError = {
  devSignInOff: () =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      SessionErrorReason.DevSignInOff,
      'the development sign-in is not enabled (CONSOLE_DEV_SIGN_IN)',
    ),
  signedOut: () =>
    new DomainError(
      ErrorKind.Unauthenticated,
      SessionErrorReason.SignedOut,
      'not signed in, or the session ended: sign in again',
    ),
  invalid: (field: string, description: string) => new ValidationError([{ field, description }]),
};
