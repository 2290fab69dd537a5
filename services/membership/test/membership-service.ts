import type { Env, RunningService } from '@shoal/platform';
import { startService } from '@shoal/platform';
import type { TestScope } from '@shoal/testing';
import { membershipService } from '../src/service';
import { MovableClock } from './test-clock';

/** Starts membership in a test scope with a movable clock and quick checkpoints. */
export async function startMembership(
  scope: TestScope,
  overrides: Env = {},
): Promise<{ service: RunningService; clock: MovableClock }> {
  const clock = new MovableClock();
  const service = await startService(membershipService, {
    env: scope.env('membership', { MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '200', ...overrides }),
    clock,
    logDestination: process.env.SHOAL_TEST_LOGS ? process.stdout : scope.logs,
  });
  return { service, clock };
}
