/**
 * Who is calling, as established by a verified token — never by what a request claims.
 * Ownership and visibility decisions use only this.
 */
export interface Principal {
  /** The token's `sub`: a user id, or `service:<name>` for a Shoal service. */
  readonly subject: string;
  /** Groups from the token (claim configurable with AUTH_GROUPS_CLAIM). */
  readonly groups: readonly string[];
  readonly kind: 'user' | 'service';
  /** For service principals, the calling service's name. */
  readonly service?: string;
}

/** The claim naming the service a service token speaks for. */
export const SERVICE_CLAIM = 'shoal_service';

/** Subjects of service principals: `service:<name>`; user tokens may not use it. */
export const SERVICE_SUBJECT_PREFIX = 'service:';

/** Key ids of development keys start with this; production refuses them. */
export const DEV_KEY_ID_PREFIX = 'shoal-dev-';
