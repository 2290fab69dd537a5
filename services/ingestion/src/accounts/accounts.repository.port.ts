import type { AccountState } from './account-state';

export const ACCOUNT_REPOSITORY = Symbol('AccountRepository');

/** An account and which of its traits changed since it was last written (all: everything). */
export interface AccountWrite {
  readonly state: AccountState;
  readonly traits: ReadonlySet<string>;
  readonly all: boolean;
}

/** Where accounts are kept; writes are joins, as for profiles. */
export interface AccountRepositoryPort {
  load(ids: readonly string[]): Promise<Map<string, AccountState>>;
  write(writes: readonly AccountWrite[]): Promise<void>;
}
