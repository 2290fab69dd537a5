import type { MembershipConfig } from '../service';

export const MEMBERSHIP_SETTINGS = Symbol('MembershipSettings');

const DAY_MS = 86_400_000;

/** The membership service's tunables, from its configuration. */
export interface MembershipSettings {
  readonly checkpointIntervalMs: number;
  readonly timerTickMs: number;
  /** 0: keep history for ever. */
  readonly historyRetentionMs: number;
  readonly maxDirtyProfiles: number;
  /** Subjects each partition keeps live (the most recently used); the others are packed. */
  readonly liveProfiles: number;
  readonly statusIntervalMs: number;
}

export function settingsFromConfig(config: MembershipConfig): MembershipSettings {
  return {
    checkpointIntervalMs: config.MEMBERSHIP_CHECKPOINT_INTERVAL_MS,
    timerTickMs: config.MEMBERSHIP_TIMER_TICK_MS,
    historyRetentionMs: config.MEMBERSHIP_HISTORY_DAYS * DAY_MS,
    maxDirtyProfiles: config.MEMBERSHIP_MAX_DIRTY_PROFILES,
    liveProfiles: config.MEMBERSHIP_LIVE_PROFILES,
    statusIntervalMs: config.MEMBERSHIP_STATUS_INTERVAL_MS,
  };
}
