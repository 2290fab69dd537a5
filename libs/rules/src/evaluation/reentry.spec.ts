import { create } from '@bufbuild/protobuf';
import { ReentryMode, ReentryPolicySchema } from '@shoal/contracts';
import { RuleViolationCode } from '../language/errors';
import { decideEntry, validateReentryPolicy, type MembershipTransition } from './reentry';

const DAY = 86_400_000;
const entered = (at: number): MembershipTransition => ({ kind: 'entered', at });
const exited = (at: number): MembershipTransition => ({ kind: 'exited', at });

describe('decideEntry', () => {
  const history = [entered(0), exited(10 * DAY)];

  it.each([
    [
      'EVERY_TIME lets a profile enter again at once',
      { mode: ReentryMode.EVERY_TIME },
      history,
      10 * DAY,
      { kind: 'allowed' },
    ],
    ['an unspecified policy is EVERY_TIME', {}, history, 10 * DAY, { kind: 'allowed' }],
    [
      'ONCE lets a profile enter the first time',
      { mode: ReentryMode.ONCE },
      [],
      0,
      { kind: 'allowed' },
    ],
    [
      'ONCE never lets a profile enter a second time',
      { mode: ReentryMode.ONCE },
      history,
      500 * DAY,
      { kind: 'never' },
    ],
    [
      'COOL_DOWN makes a profile wait after its last exit',
      { mode: ReentryMode.COOL_DOWN, coolDown: { length: { case: 'days', value: 7 } } },
      history,
      12 * DAY,
      { kind: 'wait', from: 17 * DAY },
    ],
    [
      'COOL_DOWN lets it in once the cool-down has passed',
      { mode: ReentryMode.COOL_DOWN, coolDown: { length: { case: 'days', value: 7 } } },
      history,
      17 * DAY,
      { kind: 'allowed' },
    ],
    [
      'COOL_DOWN counts from the last of several exits',
      { mode: ReentryMode.COOL_DOWN, coolDown: { length: { case: 'hours', value: 1 } } },
      [...history, entered(11 * DAY), exited(12 * DAY)],
      12 * DAY + 1,
      { kind: 'wait', from: 12 * DAY + 3_600_000 },
    ],
    [
      'COOL_DOWN lets a profile that never left enter',
      { mode: ReentryMode.COOL_DOWN, coolDown: { length: { case: 'days', value: 7 } } },
      [],
      0,
      { kind: 'allowed' },
    ],
  ] as const)('%s', (_name, policy, transitions, now, expected) => {
    expect(decideEntry({ policy: create(ReentryPolicySchema, policy), transitions, now })).toEqual(
      expected,
    );
  });

  it('treats a missing policy as EVERY_TIME', () => {
    expect(
      decideEntry({ policy: undefined, transitions: history, now: new Date(10 * DAY) }),
    ).toEqual({ kind: 'allowed' });
  });
});

describe('validateReentryPolicy', () => {
  it('needs a cool-down span for COOL_DOWN and refuses one otherwise', () => {
    expect(
      validateReentryPolicy(create(ReentryPolicySchema, { mode: ReentryMode.COOL_DOWN })),
    ).toEqual([expect.objectContaining({ path: 'coolDown', code: RuleViolationCode.Required })]);
    expect(
      validateReentryPolicy(
        create(ReentryPolicySchema, {
          mode: ReentryMode.ONCE,
          coolDown: { length: { case: 'days', value: 1 } },
        }),
      ),
    ).toEqual([
      expect.objectContaining({ path: 'coolDown', code: RuleViolationCode.NotAllowedHere }),
    ]);
    expect(
      validateReentryPolicy(create(ReentryPolicySchema, { mode: ReentryMode.EVERY_TIME })),
    ).toEqual([]);
  });
});
