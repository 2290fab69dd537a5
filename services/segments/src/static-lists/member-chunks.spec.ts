import {
  type ChunkPlan,
  type ChunkRef,
  type ChunkSizes,
  chunkIndexOf,
  chunksForPage,
  pageFrom,
  planChange,
} from './member-chunks';

const SIZES: ChunkSizes = { target: 3, max: 5, min: 2 };
const ref = (key: string, ids: readonly string[]): ChunkRef => ({
  key,
  first: ids[0] as string,
  size: ids.length,
});

/** A list of chunks as the head and store would hold them. */
function layout(chunks: Record<string, string[]>) {
  return {
    chunks: Object.entries(chunks).map(([key, ids]) => ref(key, ids)),
    contents: new Map(Object.entries(chunks)),
  };
}

function plan(args: {
  chunks: ChunkRef[];
  contents: Map<string, readonly string[]>;
  ids: string[];
  member: boolean;
}): ChunkPlan {
  const result = planChange({ ...args, sizes: SIZES, newKey: (i) => `n${i}` });
  if (!('plan' in result)) throw new Error(`asked for ${result.missing.join()}`);
  return result.plan;
}

describe('member chunks', () => {
  const list = layout({ c1: ['b', 'c', 'd'], c2: ['f', 'g', 'h'], c3: ['m', 'n', 'o'] });

  it('finds the chunk an id falls in, ids below the first going to the first chunk', () => {
    expect(['a', 'b', 'e', 'f', 'k', 'z'].map((id) => chunkIndexOf(list.chunks, id))).toEqual([
      0, 0, 0, 1, 1, 2,
    ]);
    expect(chunkIndexOf([], 'a')).toBe(0);
  });

  it('asks only for the chunks the change touches', () => {
    const result = planChange({
      chunks: list.chunks,
      contents: new Map(),
      ids: ['e', 'p'],
      member: true,
      sizes: SIZES,
      newKey: (i) => `n${i}`,
    });
    expect(result).toEqual({ missing: ['c1', 'c3'] });
  });

  it('rewrites only touched chunks under new keys and reports what actually changed', () => {
    const result = plan({ ...list, ids: ['a', 'c', 'p'], member: true });
    expect(result.changed).toEqual(['a', 'p']);
    expect(result.written).toEqual([
      { key: 'n0', ids: ['a', 'b', 'c', 'd'] },
      { key: 'n1', ids: ['m', 'n', 'o', 'p'] },
    ]);
    expect(result.replaced).toEqual(['c1', 'c3']);
    expect(result.chunks.map((c) => [c.key, c.first, c.size])).toEqual([
      ['n0', 'a', 4],
      ['c2', 'f', 3],
      ['n1', 'm', 4],
    ]);
    expect(result.count).toBe(11);
  });

  it('changes nothing when every id is already as asked', () => {
    const result = plan({ ...list, ids: ['b', 'g'], member: true });
    expect(result).toMatchObject({ changed: [], written: [], replaced: [], count: 9 });
    expect(plan({ ...list, ids: ['a', 'e'], member: false }).changed).toEqual([]);
  });

  it('cuts a chunk that grows past the maximum into pieces of about the target size', () => {
    const result = plan({ ...list, ids: ['ga', 'gb', 'gc'], member: true });
    expect(result.written.map((w) => w.ids)).toEqual([
      ['f', 'g', 'ga'],
      ['gb', 'gc', 'h'],
    ]);
    expect(result.chunks.map((c) => c.first)).toEqual(['b', 'f', 'gb', 'm']);
  });

  it('fills an empty list in target-sized chunks', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'];
    const result = plan({ chunks: [], contents: new Map(), ids, member: true });
    expect(result.written.map((w) => w.ids.length)).toEqual([3, 3, 3, 3]);
    expect(result.replaced).toEqual([]);
  });

  it('drops chunks that lose every member and merges a small one into its neighbour', () => {
    const emptied = plan({ ...list, ids: ['f', 'g', 'h'], member: false });
    expect(emptied.chunks.map((c) => c.key)).toEqual(['c1', 'c3']);
    expect(emptied.written).toEqual([]);
    expect(emptied.replaced).toEqual(['c2']);

    const shrunk = planChange({
      chunks: list.chunks,
      contents: new Map([['c2', list.contents.get('c2') as string[]]]),
      ids: ['f', 'g'],
      member: false,
      sizes: SIZES,
      newKey: (i) => `n${i}`,
    });
    expect(shrunk).toEqual({ missing: ['c3'] });
    const merged = plan({ ...list, ids: ['f', 'g'], member: false });
    expect(merged.written).toEqual([{ key: 'n0', ids: ['h', 'm', 'n', 'o'] }]);
    expect(merged.replaced).toEqual(['c2', 'c3']);
    expect(merged.chunks.map((c) => c.key)).toEqual(['c1', 'n0']);
  });

  it('reads just enough chunks for a page and pages strictly after the cursor', () => {
    expect(chunksForPage(list.chunks, '', 3)).toEqual(['c1']);
    expect(chunksForPage(list.chunks, '', 4)).toEqual(['c1', 'c2']);
    expect(chunksForPage(list.chunks, 'c', 3)).toEqual(['c1', 'c2']);
    expect(chunksForPage(list.chunks, 'zz', 3)).toEqual(['c3']);
    expect(chunksForPage([], '', 3)).toEqual([]);
    const read = ['c1', 'c2'].map((k) => list.contents.get(k) as string[]);
    expect(pageFrom(read, 'c', 3)).toEqual(['d', 'f', 'g']);
    expect(pageFrom(read, '', 2)).toEqual(['b', 'c']);
  });
});
