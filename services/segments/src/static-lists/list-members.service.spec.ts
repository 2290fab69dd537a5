import { newTestService } from '@shoal/testing';
import fc from 'fast-check';
import {
  InMemoryListMemberRepository,
  SimulatedCrash,
} from '../../test/in-memory-list-members.repository';
import { LIST_MEMBER_REPOSITORY } from './list-members.repository.port';
import {
  DEFAULT_LIST_MEMBERS_OPTIONS,
  LIST_MEMBERS_OPTIONS,
  type ListMembersOptions,
  ListMembersService,
  type PublishedChange,
} from './list-members.service';
import { StaticListErrorCode } from './static-lists.errors';

const LIST = 'seg_list';
const SMALL: ListMembersOptions = {
  ...DEFAULT_LIST_MEMBERS_OPTIONS,
  sizes: { target: 4, max: 8, min: 2 },
  partSize: 3,
};
const seed = process.env['FC_SEED'];
const propertyOptions = {
  numRuns: Number(process.env['FC_RUNS'] ?? 200),
  ...(seed === 'random' ? {} : { seed: seed ? Number(seed) : 20_261_130 }),
};

async function setup(options: Partial<ListMembersOptions> = {}) {
  const repository = new InMemoryListMemberRepository();
  const { sut: service, clock } = await newTestService(ListMembersService, {
    fakes: [[LIST_MEMBER_REPOSITORY, repository]],
    providers: [{ provide: LIST_MEMBERS_OPTIONS, useValue: { ...SMALL, ...options } }],
  });
  const published: PublishedChange[] = [];
  const change = (member: boolean, memberIds: readonly string[], maxMembers = 1_000_000) =>
    service.change({ listId: LIST, memberIds, member, changedBy: 'ann', maxMembers });
  return {
    repository,
    clock,
    service,
    published,
    add: (ids: readonly string[], maxMembers?: number) => change(true, ids, maxMembers),
    remove: (ids: readonly string[]) => change(false, ids),
    /** Publishes everything pending. */
    drain: async () => {
      for (let round = 0; round < 10_000; round++) {
        const { handled } = await service.publishNext(async (changes) => {
          published.push(...changes);
        });
        if (handled === 0) return;
      }
      throw new Error('publication never finished');
    },
    /** Every member by paging `pageSize` at a time. */
    pageAll: async (pageSize: number) => {
      const all: string[] = [];
      for (;;) {
        const page = await service.page(LIST, all[all.length - 1] ?? '', pageSize);
        if (page.length === 0) return all;
        all.push(...page);
      }
    },
    /** Chunks stored and parts stored beyond what the head references (should be none). */
    leftovers: async () => {
      const head = await repository.head(LIST);
      const stored = repository.stored(LIST);
      const chunks = new Set([...(head?.chunks ?? []).map((c) => c.key), ...(head?.garbage ?? [])]);
      const parts = new Set(
        (head?.outbox ?? []).flatMap((c) =>
          Array.from({ length: c.parts }, (_, i) => `${c.epoch}.${i}`),
        ),
      );
      return {
        chunks: stored.chunks.filter((k) => !chunks.has(k)),
        parts: stored.parts.filter((k) => !parts.has(k)),
      };
    },
  };
}

const ids = (n: number, prefix = 'p') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

/**
 * The members as a consumer of the published changes sees them (sorted): those whose last change
 * added them, checking that sequences only grow per member.
 */
function publishedMembers(published: readonly PublishedChange[]): string[] {
  const last = new Map<string, PublishedChange>();
  for (const change of published) {
    const before = last.get(change.memberId);
    if (before && before.sequence > change.sequence) {
      throw new Error(`${change.memberId}: sequence ${change.sequence} after ${before.sequence}`);
    }
    last.set(change.memberId, change);
  }
  return [...last.values()]
    .filter((c) => c.member)
    .map((c) => c.memberId)
    .sort();
}

describe('ListMembersService', () => {
  it('keeps members in chunks no larger than the maximum and pages them in id order', async () => {
    const t = await setup();
    const members = ids(50).reverse();
    expect(await t.add(members)).toBe(50);
    const head = await t.repository.head(LIST);
    expect(head?.count).toBe(50);
    expect(head?.chunks.every((c) => c.size <= SMALL.sizes.max)).toBe(true);
    expect(head?.chunks.length).toBeGreaterThan(1);
    expect(await t.pageAll(7)).toEqual([...members].sort());
    expect(await t.service.page(LIST, 'p00047', 10)).toEqual(['p00048', 'p00049']);
    expect(await t.service.count(LIST)).toBe(50);
  });

  it('answers how many members changed and queues nothing when a retry changes nothing', async () => {
    const t = await setup();
    expect(await t.add(['a', 'b', 'c'])).toBe(3);
    expect(await t.add(['b', 'c', 'd', 'd'])).toBe(1);
    expect(await t.add(['a', 'b', 'c', 'd'])).toBe(0);
    expect(await t.remove(['a', 'zz'])).toBe(1);
    expect(await t.remove(['a'])).toBe(0);
    expect((await t.repository.head(LIST))?.outbox.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(await t.pageAll(2)).toEqual(['b', 'c', 'd']);
  });

  it('publishes each change per member with the list change number, in change order', async () => {
    const t = await setup();
    await t.add(ids(7));
    await t.remove(['p00001', 'p00002']);
    await t.add(['p00001']);
    await t.drain();
    expect(t.published.filter((c) => c.sequence === 1).map((c) => c.memberId)).toEqual(ids(7));
    const p1 = t.published.filter((c) => c.memberId === 'p00001');
    expect(p1.map((c) => [c.member, c.sequence])).toEqual([
      [true, 1],
      [false, 2],
      [true, 3],
    ]);
    expect(t.published.every((c) => c.changedBy === 'ann' && c.listId === LIST)).toBe(true);
    expect((await t.repository.head(LIST))?.outbox).toEqual([]);
    expect(t.repository.stored(LIST).parts).toEqual([]);
  });

  it('matches a plain set over any sequence of adds and removes, leaving nothing behind', async () => {
    const batch = fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 25 });
    const step = fc.record({ member: fc.boolean(), ids: batch });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (steps) => {
        const t = await setup();
        const model = new Set<string>();
        for (const { member, ids: numbers } of steps) {
          const batchIds = numbers.map((n) => `m${String(n).padStart(2, '0')}`);
          const expected = batchIds.filter((id) => model.has(id) !== member).length;
          for (const id of batchIds) {
            if (member) model.add(id);
            else model.delete(id);
          }
          expect(await (member ? t.add(batchIds) : t.remove(batchIds))).toBe(expected);
          expect(await t.service.count(LIST)).toBe(model.size);
        }
        expect(await t.pageAll(5)).toEqual([...model].sort());
        await t.drain();
        expect(publishedMembers(t.published)).toEqual([...model].sort());
        const head = await t.repository.head(LIST);
        expect(head?.chunks.every((c) => c.size > 0 && c.size <= SMALL.sizes.max) ?? true).toBe(
          true,
        );
        expect(await t.leftovers()).toEqual({ chunks: [], parts: [] });
        expect(t.repository.stored(LIST).chunks).toEqual(
          (head?.chunks ?? []).map((c) => c.key).sort(),
        );
      }),
      propertyOptions,
    );
  });

  it('merges chunks that removals left small into a neighbour', async () => {
    const t = await setup();
    await t.add(ids(40));
    const before = (await t.repository.head(LIST))!.chunks.length;
    await t.remove(ids(40).filter((_, i) => i % 10 !== 0));
    const head = (await t.repository.head(LIST))!;
    expect(head.chunks.length).toBeLessThan(before);
    expect(head.chunks.reduce((sum, c) => sum + c.size, 0)).toBe(4);
    expect(await t.pageAll(3)).toEqual(['p00000', 'p00010', 'p00020', 'p00030']);
  });

  it('refuses additions beyond the member limit and writes nothing', async () => {
    const t = await setup();
    await t.add(['a', 'b', 'c']);
    const writes = t.repository.writes;
    await expect(t.add(['c', 'd', 'e'], 4)).rejects.toThrow(/STATIC_LIST_MAX_MEMBERS is 4/);
    expect(t.repository.writes).toBe(writes);
    expect(await t.add(['c', 'd'], 4)).toBe(1);
    expect(await t.remove(['a'])).toBe(1);
  });

  it('refuses changes while too many committed changes wait for publication', async () => {
    const t = await setup({ maxUnpublished: 2 });
    await t.add(['a']);
    await t.add(['b']);
    await expect(t.add(['c'])).rejects.toMatchObject({
      reason: StaticListErrorCode.PublishingBehind,
    });
    await t.drain();
    expect(await t.add(['c'])).toBe(1);
  });

  describe('after a crash between any two writes', () => {
    const existing = ids(20, 'a');
    const joining = [...ids(13, 'b'), ...ids(5, 'a0')];
    const leaving = ids(12, 'a');

    for (const [name, member, changeIds] of [
      ['an add', true, joining],
      ['a remove', false, leaving],
    ] as const) {
      it(`shows ${name} whole or not at all, and a retry completes it once`, async () => {
        const probe = await setup();
        await probe.add(existing);
        const before = probe.repository.writes;
        const expected = await (member ? probe.add(changeIds) : probe.remove(changeIds));
        const writesOfChange = probe.repository.writes - before;
        const after = await probe.pageAll(100);

        for (let crashAt = 0; crashAt < writesOfChange; crashAt++) {
          const t = await setup();
          await t.add(existing);
          t.repository.crashAfter(crashAt);
          const first = await (member ? t.add(changeIds) : t.remove(changeIds)).catch(
            (error: unknown) => {
              expect(error).toBeInstanceOf(SimulatedCrash);
              return undefined;
            },
          );
          t.repository.recover();
          const visible = await t.pageAll(100);
          expect([after, [...existing].sort()]).toContainEqual(visible);

          t.clock.advance(SMALL.holdMs + 1);
          const retried = await (member ? t.add(changeIds) : t.remove(changeIds));
          expect((first ?? 0) + retried).toBe(expected);
          expect(await t.pageAll(100)).toEqual(after);
          expect(await t.leftovers()).toEqual({ chunks: [], parts: [] });

          await t.add(['zz']);
          await t.drain();
          const changesOfOp = new Set(
            t.published
              .filter((c) => c.member === member && c.sequence === 2)
              .map((c) => c.memberId),
          );
          expect(changesOfOp.size).toBe(expected);
          expect(t.repository.stored(LIST)).toEqual({
            chunks: (await t.repository.head(LIST))!.chunks.map((c) => c.key).sort(),
            parts: [],
          });
        }
      });
    }

    it('publishes again at most the part that was in flight', async () => {
      const t = await setup();
      await t.add(ids(10));
      // parts of 3: the relay publishes part 0, then the crash stops it recording that
      t.repository.crashAfter(0);
      await expect(
        t.service.publishNext(async (changes) => {
          t.published.push(...changes);
        }),
      ).rejects.toBeInstanceOf(SimulatedCrash);
      t.repository.recover();
      await t.drain();
      expect(t.published.map((c) => c.memberId)).toEqual([...ids(3), ...ids(10)]);
    });
  });

  it('serialises concurrent changes of one list so every member ends as its last published change', async () => {
    const t = await setup({ holdMs: 60_000 });
    await t.add(ids(30));
    const calls = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0 ? t.add(['p00003', `n${i}`]) : t.remove(['p00003', 'p00004', `n${i - 1}`]),
    );
    await Promise.all(calls);
    await t.drain();
    const members = await t.pageAll(7);
    expect(publishedMembers(t.published)).toEqual(members);
    expect(await t.service.count(LIST)).toBe(members.length);
    expect(new Set(t.published.map((c) => c.sequence)).size).toBe(
      (await t.repository.head(LIST))!.seq,
    );
  });

  it('a long change renews its hold, so another writer waits for it instead of taking over', async () => {
    const t = await setup();
    await t.add(['x']);
    let b: Promise<number> | undefined;
    t.repository.beforeWrite = async () => {
      // A writes about 240 documents, each taking 1/200 of the hold; B arrives when a hold
      // that was never renewed would have ended
      t.clock.advance(SMALL.holdMs / 200);
      if (t.repository.writes === 210) b = t.remove(['x']);
    };
    expect(await t.add(ids(400))).toBe(400);
    t.repository.beforeWrite = undefined;
    expect(await b).toBe(1);
    await t.drain();
    expect(new Set(t.published.filter((c) => c.member).map((c) => c.sequence))).toEqual(
      new Set([1, 2]),
    );
    expect(t.published.filter((c) => !c.member).map((c) => c.sequence)).toEqual([3]);
  });

  it('a writer that lost its hold commits nothing and removes what it wrote', async () => {
    const t = await setup();
    await t.add(ids(10));
    let stalled: (() => void) | undefined;
    let writesOfA = 0;
    t.repository.beforeWrite = async () => {
      // writer A stalls at its third write until B has taken over and committed
      if (++writesOfA === 3) await new Promise<void>((resume) => (stalled = resume));
    };
    const a = t.add(['a1', 'a2']);
    while (!stalled) await new Promise((resolve) => setImmediate(resolve));
    t.repository.beforeWrite = undefined;
    t.clock.advance(SMALL.holdMs + 1);
    expect(await t.remove(['p00000'])).toBe(1);
    stalled();
    expect(await a).toBe(2);
    expect(await t.pageAll(100)).toEqual(['a1', 'a2', ...ids(10).slice(1)]);
    expect(await t.leftovers()).toEqual({ chunks: [], parts: [] });
    await t.drain();
    expect(t.published.filter((c) => c.memberId === 'a1').map((c) => c.sequence)).toEqual([3]);
  });
});
