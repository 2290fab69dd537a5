/** A signed-in user of the console: who they are and the token their calls carry. */
export interface ConsoleSession {
  /** SHA-256 of the session cookie's value: the store never holds a usable cookie. */
  readonly id: string;
  readonly subject: string;
  readonly groups: readonly string[];
  /** The user's own bearer token, forwarded with every call; it never leaves the server. */
  readonly token: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}
