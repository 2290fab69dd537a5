import type { ConsoleSession } from './session';

export const SESSION_REPOSITORY = Symbol('SessionRepository');

/** Sessions by id, shared by every console replica. */
export interface SessionRepositoryPort {
  save(session: ConsoleSession): Promise<void>;
  find(id: string): Promise<ConsoleSession | undefined>;
  delete(id: string): Promise<void>;
}
