import { ReentryMode, type ReentryPolicy } from '@shoal/contracts';
import { toMs, type Instant } from './compile';
import { RuleViolationCode, assertNever, type RuleViolation } from '../language/errors';
import { spanMs } from './time-test';

// Re-entry: whether a subject whose rule matches may enter the segment now, given its history.

/** One past change of a subject's membership in a segment. */
export interface MembershipTransition {
  readonly kind: 'entered' | 'exited';
  readonly at: number;
}

/** `allowed`: enter now. `wait`: not before `from`. `never`: the policy forbids it for good. */
export type EntryDecision =
  | { readonly kind: 'allowed' }
  | { readonly kind: 'wait'; readonly from: number }
  | { readonly kind: 'never' };

/**
 * Decides whether a subject that is not a member (and whose rule matches) may enter at `now`.
 * EVERY_TIME (and unspecified): always. ONCE: only if it never entered before. COOL_DOWN: only
 * once `coolDown` has passed since its last exit (at exactly last exit + coolDown it may).
 * The membership service schedules a re-check at `from` when told to wait.
 */
export function decideEntry({
  policy,
  transitions,
  now,
}: {
  policy: ReentryPolicy | undefined;
  transitions: readonly MembershipTransition[];
  now: Instant;
}): EntryDecision {
  const at = toMs(now);
  const mode = policy?.mode ?? ReentryMode.UNSPECIFIED;
  switch (mode) {
    case ReentryMode.UNSPECIFIED:
    case ReentryMode.EVERY_TIME:
      return { kind: 'allowed' };
    case ReentryMode.ONCE:
      return transitions.some((transition) => transition.kind === 'entered')
        ? { kind: 'never' }
        : { kind: 'allowed' };
    case ReentryMode.COOL_DOWN: {
      const exits = transitions
        .filter((transition) => transition.kind === 'exited')
        .map((transition) => transition.at);
      if (exits.length === 0) return { kind: 'allowed' };
      const from = Math.max(...exits) + spanMs(policy?.coolDown);
      return at >= from ? { kind: 'allowed' } : { kind: 'wait', from };
    }
    default:
      return assertNever(mode, 're-entry mode');
  }
}

/** Checks a re-entry policy: a cool-down needs a positive span, and only a cool-down takes one. */
export function validateReentryPolicy(policy: ReentryPolicy): RuleViolation[] {
  if (policy.mode === ReentryMode.COOL_DOWN) {
    return spanMs(policy.coolDown) > 0
      ? []
      : [
          {
            path: 'coolDown',
            code: RuleViolationCode.Required,
            message: 'REENTRY_MODE_COOL_DOWN needs a coolDown of at least one minute',
          },
        ];
  }
  return policy.coolDown === undefined
    ? []
    : [
        {
          path: 'coolDown',
          code: RuleViolationCode.NotAllowedHere,
          message: 'coolDown applies only to REENTRY_MODE_COOL_DOWN',
        },
      ];
}
