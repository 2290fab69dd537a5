import type { ProfileChange } from '@shoal/contracts';
import { profileChange } from '../../test/evaluation/scenario';
import { InMemoryPartitionStore } from '../../test/support/in-memory-partition-store';
import { dynamicSegment, newTestMembership, profileIn } from '../../test/support/test-membership';
import type { CheckpointWrite } from './partition-store.repository.port';

type TestMembership = Awaited<ReturnType<typeof newTestMembership>>;

/** Lets pending work run: up to `turns` turns of the event loop, until `done` holds. */
async function settle(done: () => boolean, turns = 1_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Holds every call of `method` on `target` until `release` is called. */
function hold<O extends object, K extends keyof O>(target: O, method: K) {
  const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  const held: (() => void)[] = [];
  let holding = true;
  target[method] = ((...args: unknown[]) =>
    holding
      ? new Promise<void>((resolve) => held.push(resolve)).then(() => original(...args))
      : original(...args)) as O[K];
  return {
    get calls() {
      return held.length;
    },
    release: () => {
      holding = false;
      for (const resume of held.splice(0)) resume();
    },
  };
}

const tagged = (id: string, profileId: string, tag: string): ProfileChange =>
  profileChange(id, profileId, { case: 'tagsChanged', value: { added: [tag] } } as never);

/** One membership over two partitions with a segment of the `vip` tag; `log` records effects in order. */
async function withVipSegment(store = new InMemoryPartitionStore()) {
  const log: string[] = [];
  const m = await newTestMembership({
    store,
    commit: async (partition, next) => {
      log.push(`committed ${partition} changes<${next.changes}`);
    },
  });
  const vip = dynamicSegment('seg_vip', { hasTag: 'vip' });
  m.definitions.apply([{ segmentId: vip.id, definition: vip }]);
  await m.checkpoint();
  log.splice(0);
  const publish = m.events.publishTransitions.bind(m.events);
  m.events.publishTransitions = async (transitions) => {
    await publish(transitions);
    log.push(...transitions.map((t) => `published ${t.profileId} ${t.kind}`));
  };
  const members = (partition: number) => [
    ...(m.service.local(partition)?.ws.membersOf('seg_vip') ?? []),
  ];
  return { m, log, members };
}

/** Applies changes in their partition's lane, as the consumer does. */
function applyInLane(
  m: TestMembership,
  partition: number,
  changes: ProfileChange[],
  offset: number,
) {
  return m.inLane(partition, () =>
    m.service.processChanges(
      partition,
      changes.map((value, i) => ({
        offset: offset + i,
        timestamp: m.clock.now().getTime(),
        value,
        reject: (reason: string, error: string) => {
          throw new Error(`${reason}: ${error}`);
        },
      })),
    ),
  );
}

describe("a partition's lane", () => {
  it("evaluates the next batch while the previous batch's transitions wait for the broker", async () => {
    const { m, members } = await withVipSegment();
    const ann = profileIn(0, 2, 'ann');
    const bob = profileIn(0, 2, 'bob');
    const broker = hold(m.events, 'publishTransitions');

    void applyInLane(m, 0, [tagged('c1', ann, 'vip')], 1);
    const second = applyInLane(m, 0, [tagged('c2', bob, 'vip')], 2);
    await settle(() => members(0).length === 2);

    expect(members(0).sort()).toEqual([ann, bob].sort());
    expect(m.events.transitions).toEqual([]);
    broker.release();
    await second;
    await settle(() => m.events.transitions.length === 2);
    expect(m.events.transitions.map((t) => t.profileId)).toEqual([ann, bob]);
    await m.stop();
  });

  it('stores and commits a checkpoint only once the transitions it covers are published', async () => {
    const store = new InMemoryPartitionStore();
    const write = store.writeCheckpoint.bind(store);
    const { m, log } = await withVipSegment(store);
    store.writeCheckpoint = async (partition: number, checkpoint: CheckpointWrite) => {
      log.push(`stored ${partition}`);
      return write(partition, checkpoint);
    };
    const ann = profileIn(0, 2, 'ann');
    const broker = hold(m.events, 'publishTransitions');
    await applyInLane(m, 0, [tagged('c1', ann, 'vip')], 7);

    const checkpoint = m.service.local(0)!.checkpoint();
    await settle(() => log.length > 0, 200);
    expect(log).toEqual([]);
    broker.release();
    await checkpoint;
    await m.service.local(0)!.flushed();

    expect(log).toEqual([`published ${ann} entered`, 'stored 0', 'committed 0 changes<8']);
    await m.stop();
  });

  it("is not held by a checkpoint's request for the end of the partition's output", async () => {
    const { m } = await withVipSegment();
    const ends = hold(m.events, 'outputEnd');
    const checkpoint = m.service.local(0)!.checkpoint();
    let ran = false;
    const next = m.inLane(0, async () => {
      ran = true;
    });

    await settle(() => ran);

    expect(ran).toBe(true);
    ends.release();
    await Promise.all([checkpoint, next]);
    await m.stop();
  });

  it('queues one checkpoint, not one per tick, while the lane is busy', async () => {
    const store = new InMemoryPartitionStore();
    const { m } = await withVipSegment(store);
    const writes = jest.spyOn(store, 'writeCheckpoint');
    let free = () => undefined as void;
    const freed = new Promise<void>((resolve) => (free = resolve));
    const busy = m.inLane(0, () => freed);
    const runtime = m.service.local(0)!;
    const ticks = [runtime.checkpoint(), runtime.checkpoint(), runtime.checkpoint()];

    free();
    await busy;
    await Promise.all(ticks);
    await runtime.flushed();

    expect(writes.mock.calls.filter(([partition]) => partition === 0)).toHaveLength(1);
    await m.stop();
  });
});

describe('a partition replayed from a checkpoint', () => {
  it('passes over the transitions its states hold when its output offset is below them', async () => {
    const { m } = await withVipSegment();
    const ann = profileIn(0, 2, 'ann');
    // the output's end as asked for before the transition was published: a lower bound
    m.events.outputEnd = async () => 0;
    await m.apply(tagged('c1', ann, 'vip'));
    await m.checkpoint();
    expect(m.events.transitions.map((t) => [t.kind, t.sequence])).toEqual([['entered', 1]]);

    const restarted = await newTestMembership({ store: m.store, events: m.events, owned: [] });
    restarted.definitions.apply([
      { segmentId: 'seg_vip', definition: dynamicSegment('seg_vip', { hasTag: 'vip' }) },
    ]);
    await restarted.service.assign([0, 1]);
    await applyInLane(
      restarted,
      0,
      [profileChange('c2', ann, { case: 'tagsChanged', value: { removed: ['vip'] } } as never)],
      2,
    );
    await restarted.service.local(0)!.flushed();

    expect(m.events.transitions.map((t) => [t.kind, t.sequence])).toEqual([
      ['entered', 1],
      ['exited', 2],
    ]);
    await restarted.stop();
  });
});
