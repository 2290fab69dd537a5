import type {
  ListChange,
  ListMemberRepositoryPort,
  ListWriter,
} from '../src/static-lists/list-members.repository.port';

const writer = (epoch: number, untilMs = 1_000): ListWriter => ({
  epoch,
  untilMs,
  chunks: 1,
  parts: 1,
});

const change = (seq: number, epoch: number): ListChange => ({
  seq,
  epoch,
  parts: 2,
  sent: 0,
  member: true,
  changedAtMs: 5_000 + seq,
  changedBy: 'ann',
});

/**
 * What every list-member repository guarantees, run against the in-memory fake (unit tests) and
 * the MongoDB repository (integration tests on the real store), so the write protocol tested
 * over the fake holds on the store.
 */
export function listMemberRepositoryContract(repository: () => Promise<ListMemberRepositoryPort>) {
  let store: ListMemberRepositoryPort;
  beforeEach(async () => {
    store = await repository();
  });

  /** Claims and commits change `seq` of a list whose head was last read at `seen`. */
  const committed = async (listId: string, seen: { epoch: number; seq: number }) => {
    const epoch = seen.epoch + 1;
    expect(await store.claim(listId, seen, writer(epoch))).toBe(true);
    const state = {
      seq: seen.seq + 1,
      count: 3,
      chunks: [{ key: `${epoch}.0`, first: 'a', size: 3 }],
      garbage: [`${seen.epoch}.0`],
    };
    expect(await store.commit(listId, epoch, state, change(seen.seq + 1, epoch))).toBe(true);
    return { epoch, seq: seen.seq + 1 };
  };

  describe('the head', () => {
    it('is created by the first claim, held by its writer', async () => {
      expect(await store.head('list_a')).toBeUndefined();
      expect(await store.claim('list_a', { epoch: 0, seq: 0 }, writer(1))).toBe(true);
      expect(await store.head('list_a')).toEqual({
        listId: 'list_a',
        epoch: 1,
        seq: 0,
        count: 0,
        chunks: [],
        garbage: [],
        writer: writer(1),
        outbox: [],
      });
    });

    it('is claimed only by a writer that read it since the last claim and commit', async () => {
      expect(await store.claim('list_a', { epoch: 0, seq: 0 }, writer(1))).toBe(true);
      expect(await store.claim('list_a', { epoch: 0, seq: 0 }, writer(1))).toBe(false);
      expect(await store.claim('list_a', { epoch: 1, seq: 0 }, writer(2))).toBe(true);
      expect(await store.claim('list_a', { epoch: 1, seq: 0 }, writer(3))).toBe(false);
      expect((await store.head('list_a'))?.writer?.epoch).toBe(2);
    });

    it('lets only the claiming writer extend its hold or commit', async () => {
      await store.claim('list_a', { epoch: 0, seq: 0 }, writer(1));
      expect(await store.hold('list_a', 1, 9_000)).toBe(true);
      expect((await store.head('list_a'))?.writer?.untilMs).toBe(9_000);
      await store.claim('list_a', { epoch: 1, seq: 0 }, writer(2));
      expect(await store.hold('list_a', 1, 10_000)).toBe(false);
      const state = { seq: 1, count: 1, chunks: [], garbage: [] };
      expect(await store.commit('list_a', 1, state, change(1, 1))).toBe(false);
      expect(await store.commit('list_a', 2, state, change(1, 2))).toBe(true);
      expect(await store.commit('list_a', 2, state, change(1, 2))).toBe(false);
      expect(await store.hold('list_a', 2, 10_000)).toBe(false);
    });

    it('commits the new state, ends the hold and queues the change', async () => {
      const first = await committed('list_a', { epoch: 0, seq: 0 });
      await committed('list_a', first);
      expect(await store.head('list_a')).toEqual({
        listId: 'list_a',
        epoch: 2,
        seq: 2,
        count: 3,
        chunks: [{ key: '2.0', first: 'a', size: 3 }],
        garbage: ['1.0'],
        outbox: [change(1, 1), change(2, 2)],
      });
      expect(await store.claim('list_a', first, writer(3))).toBe(false);
    });
  });

  describe('chunks and parts', () => {
    it('keeps each under its key and list, replaced whole and deleted by key', async () => {
      await store.writeChunks('list_a', [
        { key: '1.0', ids: ['a', 'b'] },
        { key: '1.1', ids: ['c'] },
      ]);
      await store.writeChunks('list_b', [{ key: '1.0', ids: ['z'] }]);
      await store.writeChunks('list_a', [{ key: '1.1', ids: ['c', 'd'] }]);
      expect(await store.chunks('list_a', ['1.0', '1.1', '9.9'])).toEqual(
        new Map([
          ['1.0', ['a', 'b']],
          ['1.1', ['c', 'd']],
        ]),
      );
      await store.deleteChunks('list_a', ['1.0', '9.9']);
      expect([...(await store.chunks('list_a', ['1.0', '1.1'])).keys()]).toEqual(['1.1']);
      expect(await store.chunks('list_b', ['1.0'])).toEqual(new Map([['1.0', ['z']]]));

      await store.writeParts('list_a', [{ key: '1.0', ids: ['p'] }]);
      expect(await store.part('list_a', '1.0')).toEqual(['p']);
      expect(await store.part('list_b', '1.0')).toBeUndefined();
      await store.deleteParts('list_a', ['1.0']);
      expect(await store.part('list_a', '1.0')).toBeUndefined();
    });

    it('writes and deletes more than one batch of them', async () => {
      const keys = Array.from({ length: 60 }, (_, i) => `1.${i}`);
      await store.writeChunks(
        'list_a',
        keys.map((key) => ({ key, ids: [key] })),
      );
      expect((await store.chunks('list_a', keys)).size).toBe(60);
      await store.deleteChunks('list_a', keys);
      expect((await store.chunks('list_a', keys)).size).toBe(0);
    });
  });

  describe('the outbox', () => {
    it('hands out the oldest unpublished change of each list, up to a number of lists', async () => {
      const a = await committed('list_a', { epoch: 0, seq: 0 });
      await committed('list_a', a);
      await committed('list_b', { epoch: 0, seq: 0 });
      await committed('list_c', { epoch: 0, seq: 0 });
      const oldest = await store.unpublished(10);
      expect(oldest.map((u) => [u.listId, u.change.seq]).sort()).toEqual([
        ['list_a', 1],
        ['list_b', 1],
        ['list_c', 1],
      ]);
      expect(await store.unpublished(2)).toHaveLength(2);
    });

    it('records parts sent, and drops a change once published', async () => {
      const a = await committed('list_a', { epoch: 0, seq: 0 });
      await committed('list_a', a);
      await store.sent('list_a', 1, 1);
      expect((await store.head('list_a'))?.outbox.map((c) => [c.seq, c.sent])).toEqual([
        [1, 1],
        [2, 0],
      ]);
      await store.published('list_a', 1);
      expect(await store.unpublished(10)).toEqual([{ listId: 'list_a', change: change(2, 2) }]);
      await store.published('list_a', 2);
      expect(await store.unpublished(10)).toEqual([]);
    });
  });
}
