import { DomainError, ErrorKind } from '../errors/domain-error';

/** Why a call's token was refused: a client refreshes an expired token, and fixes the others. */
export enum AuthErrorCode {
  /** No `authorization` metadata. */
  Missing = 'TOKEN_MISSING',
  /** Not `Bearer <jwt>`, or not a JWT. */
  Malformed = 'TOKEN_MALFORMED',
  Expired = 'TOKEN_EXPIRED',
  /** Not signed by a key trusted for its kind of token, or with an algorithm Shoal refuses. */
  Untrusted = 'TOKEN_UNTRUSTED',
  /** Signed by a trusted key, but a claim is wrong: issuer, audience, subject, times, service. */
  Rejected = 'TOKEN_REJECTED',
  /** The verification itself failed (e.g. the key set could not be read). */
  Unverifiable = 'TOKEN_UNVERIFIABLE',
}

const refused = (reason: AuthErrorCode, message: string) =>
  new DomainError(ErrorKind.Unauthenticated, reason, message);

/** Every refusal of a caller's token, one factory each; all are UNAUTHENTICATED. */
export const AuthError = {
  missing: () =>
    refused(AuthErrorCode.Missing, 'missing bearer token (metadata "authorization: Bearer <jwt>")'),

  notBearer: () => refused(AuthErrorCode.Malformed, 'authorization must be "Bearer <jwt>"'),

  malformed: () => refused(AuthErrorCode.Malformed, 'malformed token'),

  expired: () => refused(AuthErrorCode.Expired, 'token expired'),

  untrusted: () => refused(AuthErrorCode.Untrusted, 'token is not signed by a trusted key'),

  algorithmRefused: () => refused(AuthErrorCode.Untrusted, 'token algorithm not accepted'),

  /** `why` completes `token claim "<claim>" rejected: …`. */
  claimRejected: (claim: string, why: string) =>
    refused(AuthErrorCode.Rejected, `token claim "${claim}" rejected: ${why}`),

  lifetimeTooLong: (maxSeconds: number) =>
    refused(
      AuthErrorCode.Rejected,
      `token lifetime (exp − iat) is over the maximum of ${maxSeconds} s`,
    ),

  /** A service token whose subject is not `service:<the service it names>`. */
  notTheService: (claim: string, subjectPrefix: string) =>
    refused(
      AuthErrorCode.Rejected,
      `a service token needs "${claim}" and sub "${subjectPrefix}<service>"`,
    ),

  /** A user token carrying the service claim or a service subject. */
  userClaimsService: (claim: string, subjectPrefix: string) =>
    refused(
      AuthErrorCode.Rejected,
      `a user token may not claim to be a service ("${claim}" or a "${subjectPrefix}" subject)`,
    ),

  unverifiable: () => refused(AuthErrorCode.Unverifiable, 'token could not be verified'),
};
