import { fromBinary } from '@bufbuild/protobuf';
import {
  MembershipTransitionSchema,
  TransitionKind,
  membershipChangesTopic,
} from '@shoal/contracts';
import { TestScope, eventually } from '@shoal/testing';
import { MembershipHarness } from './membership-harness';
import { MembershipProcesses } from './membership-processes';

// Found by the reliability drills (docs/reliability.md): on start, membership reads back what it
// published since its last checkpoint; one record on its transitions topic that is not a
// transition (another producer's, a corrupt write) failed the loading of every partition it owned,
// so it stopped evaluating for good.

/** A length-delimited field announcing more bytes than follow: never a valid protobuf. */
const NOT_A_TRANSITION = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);

describe('a membership process restarted after a foreign record landed on its transitions topic', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  const membership = new MembershipProcesses(scope, 'foreign');
  afterAll(async () => {
    await membership.close();
    await scope.close();
  });

  // no checkpoint after the first: the restart reads back everything published since
  const start = () => membership.start({ MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '3600000' });

  /** The transitions on the topic as "profile kind segment #sequence", skipping what is not one. */
  async function transitions(): Promise<string[]> {
    const seen: string[] = [];
    for (const message of await scope.readTopicToEnd(membershipChangesTopic)) {
      if (message.value?.equals(NOT_A_TRANSITION)) continue;
      const t = fromBinary(MembershipTransitionSchema, message.value as Buffer);
      const kind = t.kind === TransitionKind.ENTERED ? 'entered' : 'exited';
      seen.push(`${t.profileId} ${kind} ${t.segmentId} #${t.sequence}`);
    }
    return seen;
  }

  it('skips the record it cannot read back and keeps evaluating', async () => {
    const first = await start();
    await harness.define('s_buyers', {
      condition: { event: { name: 'Order', count: { gte: 1 } } },
    });
    await harness.event('user:a', 'Order', Date.now());
    await eventually(
      async () => expect(await transitions()).toEqual(['user:a entered s_buyers #1']),
      60_000,
      500,
    );
    await scope.produce(membershipChangesTopic, [{ key: 'user:a', value: NOT_A_TRANSITION }]);
    await first.kill('SIGKILL');

    await start();
    await harness.event('user:b', 'Order', Date.now());
    await eventually(
      async () =>
        expect(await transitions()).toEqual([
          'user:a entered s_buyers #1',
          'user:b entered s_buyers #1',
        ]),
      90_000,
      500,
    );
  }, 300_000);
});
