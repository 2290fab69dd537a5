import { fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { SegmentState } from '@shoal/contracts';
import { profileChange } from '../../test/evaluation/scenario';
import { dynamicSegment, newTestMembership, profileIn } from '../../test/support/test-membership';

const STATUS_INTERVAL_MS = 60_000;

/** One membership over two partitions with `count` tag segments (`seg_<i>` holds tag `t<i>`). */
async function withSegments(
  count: number,
  init = {},
  options: Parameters<typeof newTestMembership>[0] = {},
) {
  const m = await newTestMembership(options);
  m.definitions.apply(
    Array.from({ length: count }, (_, i) => {
      const segment = dynamicSegment(`seg_${i}`, { hasTag: `t${i}` }, init);
      return { segmentId: segment.id, definition: segment };
    }),
  );
  await m.checkpoint();
  /** Keys of the statuses the next checkpoint publishes, and how many statuses it built. */
  const nextCheckpoint = async () => {
    const runtimes = m.service.ownedPartitions.map((p) => m.service.local(p)!);
    const reads = runtimes.map((runtime) => jest.spyOn(runtime.ws, 'membersOf'));
    const from = m.events.statuses.length;
    const removedFrom = m.events.removedStatuses.length;
    await m.checkpoint();
    const built = reads.reduce((sum, read) => sum + read.mock.calls.length, 0);
    for (const read of reads) read.mockRestore();
    return {
      published: m.events.statuses.slice(from).map((s) => `${s.segmentId}/${s.partition}`),
      removed: m.events.removedStatuses.slice(removedFrom),
      built,
    };
  };
  const tag = (change: string, profileId: string, added: string[], removed: string[] = []) =>
    m.apply(
      profileChange(change, profileId, { case: 'tagsChanged', value: { added, removed } } as never),
    );
  return { m, nextCheckpoint, tag };
}

/** Lets pending work run: up to `turns` turns of the event loop, until `done` holds. */
async function settle(done: () => boolean, turns = 1_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Holds every status publication until `release` is called. */
function holdStatuses(m: Awaited<ReturnType<typeof newTestMembership>>) {
  const publish = m.events.publishStatuses.bind(m.events);
  const held: (() => void)[] = [];
  m.events.publishStatuses = (statuses, removed) =>
    new Promise<void>((resolve) => held.push(resolve)).then(() => publish(statuses, removed));
  return {
    release: () => {
      m.events.publishStatuses = publish;
      for (const resume of held.splice(0)) resume();
    },
  };
}

const orders = () => dynamicSegment('seg_orders', { event: { name: 'Order', count: { gte: 1 } } });

describe("a partition's segment statuses", () => {
  it('are all published at the first checkpoint', async () => {
    const { m } = await withSegments(3);
    expect(m.events.statuses.map((s) => `${s.segmentId}/${s.partition}`).sort()).toEqual([
      'seg_0/0',
      'seg_0/1',
      'seg_1/0',
      'seg_1/1',
      'seg_2/0',
      'seg_2/1',
    ]);
    await m.stop();
  });

  it('are built and published, among 10,000 segments, only for the one a change moved', async () => {
    const { m, nextCheckpoint, tag } = await withSegments(10_000);
    expect(m.events.statuses).toHaveLength(20_000);
    const ann = profileIn(1, 2, 'ann');
    await tag('c1', ann, ['t7']);

    const { published, built } = await nextCheckpoint();

    expect(published).toEqual(['seg_7/1']);
    expect(built).toBeLessThanOrEqual(2);
    expect(m.events.statuses.at(-1)).toMatchObject({ memberCount: 1, state: SegmentState.READY });
    await m.stop();
    // defining 10,000 segments takes seconds on a loaded machine
  }, 30_000);

  it('are not published again at a checkpoint after changes that cancel out', async () => {
    const { m, nextCheckpoint, tag } = await withSegments(10);
    const ann = profileIn(0, 2, 'ann');
    await tag('c1', ann, ['t3']);
    await tag('c2', ann, [], ['t3']);

    expect((await nextCheckpoint()).published).toEqual([]);
    await m.stop();
  });

  it('are all published again once a status interval has passed', async () => {
    const { m, nextCheckpoint } = await withSegments(1_000);
    m.clock.advance(STATUS_INTERVAL_MS - 1);
    expect((await nextCheckpoint()).published).toEqual([]);
    m.clock.advance(1);

    const { published } = await nextCheckpoint();

    expect(published).toHaveLength(2_000);
    await m.stop();
  });

  it('are stored only when they changed, though all are published again each status interval', async () => {
    const { m, nextCheckpoint, tag } = await withSegments(1_000);
    expect(m.store.statusWrites).toBe(2_000);
    m.clock.advance(STATUS_INTERVAL_MS);
    await tag('c1', profileIn(1, 2, 'ann'), ['t7']);

    const { published } = await nextCheckpoint();

    expect(published).toHaveLength(2_000);
    expect(m.store.statusWrites).toBe(2_001);
    expect(await m.store.readStatuses('seg_7', [0, 1])).toMatchObject([
      { memberCount: 0 },
      { memberCount: 1 },
    ]);
    await m.stop();
  });

  it('are neither published nor stored again by a new owner that builds them the same', async () => {
    const { m } = await withSegments(1_000);
    await m.stop();
    expect(m.store.statusWrites).toBe(2_000);
    // the partitions move to a new instance over the same store and topics
    const next = await newTestMembership({
      store: m.store,
      events: m.events,
      at: m.clock.now().getTime(),
    });
    next.definitions.apply(
      Array.from({ length: 1_000 }, (_, i) => {
        const segment = dynamicSegment(`seg_${i}`, { hasTag: `t${i}` });
        return { segmentId: segment.id, definition: segment };
      }),
    );
    const from = m.events.statuses.length;
    await next.checkpoint();
    expect(m.events.statuses.length - from).toBe(0);
    expect(m.store.statusWrites).toBe(2_000);
    // a change still goes out, and every status again one status interval after the load
    await next.apply(
      profileChange('c1', profileIn(1, 2, 'bob'), {
        case: 'tagsChanged',
        value: { added: ['t7'], removed: [] },
      } as never),
    );
    await next.checkpoint();
    expect(m.events.statuses.slice(from).map((s) => `${s.segmentId}/${s.partition}`)).toEqual([
      'seg_7/1',
    ]);
    expect(m.store.statusWrites).toBe(2_001);
    next.clock.advance(STATUS_INTERVAL_MS);
    const before = m.events.statuses.length;
    await next.checkpoint();
    expect(m.events.statuses.length - before).toBe(2_000);
    expect(m.store.statusWrites).toBe(2_001);
    await next.stop();
  });

  it('do not hold back the commit of the checkpoint they were taken with', async () => {
    const commits: number[] = [];
    const { m, tag } = await withSegments(
      10,
      {},
      {
        commit: async (partition, next) => {
          if (partition === 0) commits.push(next.changes);
        },
      },
    );
    commits.length = 0;
    let release = () => {};
    const publish = m.events.publishStatuses.bind(m.events);
    m.events.publishStatuses = (statuses, removed) =>
      new Promise<void>((resolve) => {
        release = resolve;
      }).then(() => publish(statuses, removed));
    await tag('c1', profileIn(0, 2, 'ann'), ['t1']);

    await m.service.local(0)!.checkpoint();
    for (let i = 0; i < 100 && commits.length === 0; i++)
      await new Promise((resolve) => setImmediate(resolve));

    expect(commits).toEqual([2]);
    release();
    await m.checkpoint();
    expect(m.events.statuses.at(-1)).toMatchObject({ segmentId: 'seg_1', memberCount: 1 });
    await m.stop();
  });

  it('are stored at the next checkpoint when storing them failed', async () => {
    const { m, nextCheckpoint, tag } = await withSegments(10);
    const store = m.store.writeStatuses.bind(m.store);
    m.store.writeStatuses = async () => {
      throw new Error('store unavailable');
    };
    await tag('c1', profileIn(0, 2, 'ann'), ['t1']);
    await nextCheckpoint();
    expect(await m.store.readStatuses('seg_1', [0])).toMatchObject([{ memberCount: 0 }]);
    m.store.writeStatuses = store;

    await nextCheckpoint();

    expect(await m.store.readStatuses('seg_1', [0])).toMatchObject([{ memberCount: 1 }]);
    await m.stop();
  });

  it('do not hold back loading a partition whose segments need a backfill', async () => {
    const m = await newTestMembership({ owned: [] });
    m.definitions.apply([{ segmentId: 'seg_orders', definition: orders() }]);
    const { release } = holdStatuses(m);
    let loaded = false;

    const loading = m.service.assign([0]).then(() => (loaded = true));
    await settle(() => loaded);

    expect(loaded).toBe(true);
    release();
    await loading;
    await m.stop();
  });

  it('are not published as computing when the partition holds nobody to compute', async () => {
    const m = await newTestMembership({ owned: [] });
    m.definitions.apply([{ segmentId: 'seg_orders', definition: orders() }]);
    await m.service.assign([0]);

    await m.checkpoint();

    expect(m.events.statuses.map((s) => [s.segmentId, s.state])).toEqual([
      ['seg_orders', SegmentState.READY],
    ]);
    await m.stop();
  });

  it('do not hold back the backfill of an edited segment while it is published as computing', async () => {
    const { m, tag } = await withSegments(2);
    await tag('c1', profileIn(0, 2, 'ann'), ['t1']);
    await m.checkpoint();
    const { release } = holdStatuses(m);
    const now = m.clock.now().getTime();
    const version = () => m.service.local(0)!.statusOf('seg_1', now)?.version;
    const edited = dynamicSegment(
      'seg_1',
      { event: { name: 'Order', count: { gte: 1 } } },
      { version: 2n },
    );

    m.definitions.apply([{ segmentId: 'seg_1', definition: edited }]);
    await settle(() => version() === 2);

    expect(m.service.local(0)!.statusOf('seg_1', now)).toMatchObject({
      version: 2,
      state: SegmentState.READY,
    });
    release();
    await m.checkpoint();
    expect(
      m.events.statuses
        .filter((s) => s.segmentId === 'seg_1' && s.partition === 0)
        .map((s) => [s.version, s.state])
        .slice(-2),
    ).toEqual([
      [1, SegmentState.COMPUTING],
      [2, SegmentState.READY],
    ]);
    await m.stop();
  });

  it("are published when a member's value changes, though nobody entered or exited", async () => {
    const { m, nextCheckpoint, tag } = await withSegments(5, { valueTrait: 'ltv' });
    const ann = profileIn(0, 2, 'ann');
    const ltv = (change: string, value: number) =>
      m.apply(
        profileChange(change, ann, {
          case: 'traitsChanged',
          value: { changes: [{ key: 'ltv', value: fromJson(ValueSchema, value) }] },
        } as never),
      );
    await ltv('c1', 100);
    await tag('c2', ann, ['t2']);
    await nextCheckpoint();
    await ltv('c3', 250);

    const { published } = await nextCheckpoint();

    expect(published).toEqual(['seg_2/0']);
    expect(m.events.statuses.at(-1)).toMatchObject({ memberCount: 1, valueSum: 250 });
    await m.stop();
  });

  it('are published for a new version of a segment, and a deleted segment gets tombstones', async () => {
    const { m, nextCheckpoint } = await withSegments(10);
    const edited = dynamicSegment('seg_4', { hasTag: 'x' }, { version: 2n });
    m.definitions.apply([
      { segmentId: edited.id, definition: edited },
      { segmentId: 'seg_5', definition: null },
    ]);

    const { published, removed } = await nextCheckpoint();

    expect(published.sort()).toEqual(['seg_4/0', 'seg_4/1']);
    expect(m.events.statuses.at(-1)).toMatchObject({ version: 2 });
    expect(removed.sort()).toEqual(['seg_5/0', 'seg_5/1']);
    await m.stop();
  });

  it('are published when a refresh finishes (its last refresh moved)', async () => {
    const { m, nextCheckpoint } = await withSegments(10);
    m.clock.advance(1_000);
    m.service.refresh({ jobId: 'job-1', segmentId: 'seg_6', requestedAt: m.clock.now().getTime() });
    await new Promise((resolve) => setTimeout(resolve, 20));

    const { published } = await nextCheckpoint();

    expect(published.sort()).toEqual(['seg_6/0', 'seg_6/1']);
    expect(m.events.statuses.at(-1)?.lastRefreshedAt).toBe(m.clock.now().getTime());
    await m.stop();
  });

  it('are published again at the next checkpoint when publishing them failed', async () => {
    const { m, nextCheckpoint, tag } = await withSegments(10);
    const publish = m.events.publishStatuses.bind(m.events);
    m.events.publishStatuses = async () => {
      throw new Error('broker unavailable');
    };
    await tag('c1', profileIn(0, 2, 'ann'), ['t1']);
    expect((await nextCheckpoint()).published).toEqual([]);
    m.events.publishStatuses = publish;

    expect((await nextCheckpoint()).published).toEqual(['seg_1/0']);
    await m.stop();
  });
});
