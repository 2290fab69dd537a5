export const TOKEN_ISSUER = Symbol('TokenIssuer');

/** Issues user tokens as the identity provider would (the development sign-in's). */
export interface TokenIssuerPort {
  issue(request: {
    subject: string;
    groups: readonly string[];
    ttlSeconds: number;
    now: Date;
  }): Promise<string>;
}
