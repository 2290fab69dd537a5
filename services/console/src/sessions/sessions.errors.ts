import { DomainError, ErrorKind, ValidationError } from '@shoal/platform';

export const SessionErrorReason = {
  DevSignInOff: 'DEV_SIGN_IN_OFF',
  SignedOut: 'SIGNED_OUT',
  SignInRefused: 'SIGN_IN_REFUSED',
  ProviderUnavailable: 'IDENTITY_PROVIDER_UNAVAILABLE',
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
  signInRefused: (why: string) =>
    new DomainError(
      ErrorKind.Unauthenticated,
      SessionErrorReason.SignInRefused,
      `sign-in refused: ${why}`,
    ),
  providerUnavailable: (why: string) =>
    new DomainError(
      ErrorKind.Unavailable,
      SessionErrorReason.ProviderUnavailable,
      `the identity provider cannot be reached: ${why}`,
    ),
  invalid: (field: string, description: string) => new ValidationError([{ field, description }]),
};
