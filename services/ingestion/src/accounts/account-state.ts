import type { JsonValue } from '@bufbuild/protobuf';
import type { Stamped } from '../profiles/profile-state';

/**
 * A B2B account from group calls: its traits last-write-wins by event time, like a profile's,
 * and the span of group calls that named it.
 */
export interface AccountState {
  readonly id: string;
  readonly traits: Map<string, Stamped<JsonValue>>;
  firstSeenAt: number;
  lastSeenAt: number;
}
