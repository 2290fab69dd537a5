import type { ProfileChange } from '@shoal/contracts';

export const PROFILE_CHANGE_PUBLISHER = Symbol('ProfileChangePublisher');

/** Where profile changes go (shoal.profiles.changes); resolves once all are acknowledged, in order. */
export interface ProfileChangePublisherPort {
  publish(changes: readonly ProfileChange[]): Promise<void>;
}
