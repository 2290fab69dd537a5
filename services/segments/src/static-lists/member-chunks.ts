/**
 * How a static list's members are laid out: sorted member ids cut into chunks, each chunk one
 * document, and a map (kept in the list's head document) of every chunk's key, first id and
 * size. Chunk i holds the ids in [first(i), first(i + 1)), so finding the chunk of an id, a
 * page, or the count needs only the map and point reads. Chunks are never changed in place: a
 * change writes new chunks under new keys and switches the map, so a reader holding a map
 * always reads one consistent state. Everything here is pure.
 */

export interface ChunkRef {
  readonly key: string;
  /** The smallest id in the chunk. */
  readonly first: string;
  readonly size: number;
}

/** Chunk sizes: a rewritten run of chunks is cut into pieces of about `target` once it exceeds `max`. */
export interface ChunkSizes {
  readonly target: number;
  readonly max: number;
  /** A rewritten chunk smaller than this takes in a neighbour, so removals do not leave crumbs. */
  readonly min: number;
}

export const DEFAULT_CHUNK_SIZES: ChunkSizes = { target: 1000, max: 2000, min: 250 };

/** The new chunk contents a change writes; keys are given by the caller (unique per attempt). */
export interface ChunkPlan {
  /** The requested ids whose membership actually changes, sorted. */
  readonly changed: string[];
  /** The chunk map after the change. */
  readonly chunks: ChunkRef[];
  /** New chunks to write before the map switches. */
  readonly written: { readonly key: string; readonly ids: string[] }[];
  /** Keys of chunks the new map no longer uses. */
  readonly replaced: string[];
  readonly count: number;
}

/** Sorted, distinct ids (code-unit order, the order chunks and pages use). */
export function sortedIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort();
}

/** Index of the chunk that holds `id` or would take it: the last whose first id is ≤ id, else 0. */
export function chunkIndexOf(chunks: readonly ChunkRef[], id: string): number {
  let low = 0;
  let high = chunks.length - 1;
  let found = 0;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if ((chunks[mid] as ChunkRef).first <= id) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

/**
 * Plans adding (`member` true) or removing sorted, distinct `ids`. `contents` holds the chunks
 * read so far; when the plan needs more (the chunks the ids fall in, or a neighbour to merge a
 * small chunk into) it answers with their keys instead, and the caller reads them and asks again.
 */
export function planChange({
  chunks,
  contents,
  ids,
  member,
  sizes,
  newKey,
}: {
  chunks: readonly ChunkRef[];
  contents: ReadonlyMap<string, readonly string[]>;
  ids: readonly string[];
  member: boolean;
  sizes: ChunkSizes;
  newKey: (index: number) => string;
}): { plan: ChunkPlan } | { missing: string[] } {
  const byChunk = groupByChunk(chunks, ids);
  const affected = [...byChunk.keys()].filter((i) => i < chunks.length);
  const missing = affected.map((i) => (chunks[i] as ChunkRef).key).filter((k) => !contents.has(k));
  if (missing.length > 0) return { missing };

  // the new ids of each affected chunk, and what changed
  const changed: string[] = [];
  const rewritten = new Map<number, readonly string[]>();
  for (const [index, requested] of byChunk) {
    const ref = chunks[index];
    const current = ref ? (contents.get(ref.key) as readonly string[]) : [];
    const result = member
      ? merge(current, requested, changed)
      : subtract(current, requested, changed);
    if (result !== current) rewritten.set(index, result);
  }
  if (changed.length === 0) {
    return {
      plan: { changed, chunks: [...chunks], written: [], replaced: [], count: total(chunks) },
    };
  }

  // runs of consecutive rewritten chunks; a small one takes in a neighbour
  const runs = runsOf([...rewritten.keys()].sort((a, b) => a - b));
  const unread: string[] = [];
  for (const run of runs) {
    const size = run.reduce((sum, i) => sum + (rewritten.get(i) as readonly string[]).length, 0);
    if (size === 0 || size >= sizes.min || run.length >= chunks.length) continue;
    const first = run[0] as number;
    const last = run[run.length - 1] as number;
    const neighbour = last + 1 < chunks.length ? last + 1 : first - 1;
    if (rewritten.has(neighbour)) continue;
    const key = (chunks[neighbour] as ChunkRef).key;
    const ids = contents.get(key);
    if (!ids) {
      unread.push(key);
      continue;
    }
    rewritten.set(neighbour, ids);
    if (neighbour > last) run.push(neighbour);
    else run.unshift(neighbour);
  }
  if (unread.length > 0) return { missing: unread };

  const next: ChunkRef[] = [];
  const written: { key: string; ids: string[] }[] = [];
  const replaced: string[] = [];
  const runStarts = new Map(runs.map((run) => [run[0] as number, run]));
  for (let i = 0; i < Math.max(chunks.length, 1);) {
    const run = runStarts.get(i);
    if (!run) {
      next.push(chunks[i] as ChunkRef);
      i++;
      continue;
    }
    const ids = run.flatMap((j) => rewritten.get(j) as readonly string[]);
    for (const piece of cut(ids, sizes)) {
      const key = newKey(written.length);
      written.push({ key, ids: piece });
      next.push({ key, first: piece[0] as string, size: piece.length });
    }
    for (const j of run) if (chunks[j]) replaced.push((chunks[j] as ChunkRef).key);
    i = (run[run.length - 1] as number) + 1;
  }
  return { plan: { changed, chunks: next, written, replaced, count: total(next) } };
}

/**
 * The keys of the chunks to read for up to `limit` ids after `after` (all of them from the
 * start when `after` is empty): the chunk `after` falls in, and the following ones until they
 * hold `limit` ids.
 */
export function chunksForPage(chunks: readonly ChunkRef[], after: string, limit: number): string[] {
  if (chunks.length === 0) return [];
  const start = after ? chunkIndexOf(chunks, after) : 0;
  const keys = [(chunks[start] as ChunkRef).key];
  let following = after ? 0 : (chunks[start] as ChunkRef).size;
  for (let i = start + 1; i < chunks.length && following < limit; i++) {
    keys.push((chunks[i] as ChunkRef).key);
    following += (chunks[i] as ChunkRef).size;
  }
  return keys;
}

/** Up to `limit` ids after `after` from chunks read in map order. */
export function pageFrom(chunkIds: readonly (readonly string[])[], after: string, limit: number) {
  const page: string[] = [];
  for (const ids of chunkIds) {
    for (const id of ids) {
      if (id > after) page.push(id);
      if (page.length === limit) return page;
    }
  }
  return page;
}

function groupByChunk(chunks: readonly ChunkRef[], ids: readonly string[]) {
  const groups = new Map<number, string[]>();
  for (const id of ids) {
    const index = chunkIndexOf(chunks, id);
    const group = groups.get(index);
    if (group) group.push(id);
    else groups.set(index, [id]);
  }
  return groups;
}

/** Sorted union; the ids not already present are appended to `added`. Same array when nothing is new. */
function merge(
  current: readonly string[],
  ids: readonly string[],
  added: string[],
): readonly string[] {
  const result: string[] = [];
  let i = 0;
  const before = added.length;
  for (const id of ids) {
    while (i < current.length && (current[i] as string) < id) result.push(current[i++] as string);
    if (current[i] === id) continue;
    result.push(id);
    added.push(id);
  }
  while (i < current.length) result.push(current[i++] as string);
  return added.length === before ? current : result;
}

/** Sorted difference; the ids that were present are appended to `removed`. Same array when none were. */
function subtract(
  current: readonly string[],
  ids: readonly string[],
  removed: string[],
): readonly string[] {
  const leaving = new Set(ids);
  const result = current.filter((id) => !leaving.has(id));
  if (result.length === current.length) return current;
  for (const id of current) if (leaving.has(id)) removed.push(id);
  return result;
}

function runsOf(indexes: readonly number[]): number[][] {
  const runs: number[][] = [];
  for (const i of indexes) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === i - 1) last.push(i);
    else runs.push([i]);
  }
  return runs;
}

/** Cuts sorted ids into pieces: one piece up to `max`, else pieces of about `target`. */
function cut(ids: readonly string[], sizes: ChunkSizes): string[][] {
  if (ids.length === 0) return [];
  const pieces = ids.length <= sizes.max ? 1 : Math.ceil(ids.length / sizes.target);
  const result: string[][] = [];
  for (let p = 0; p < pieces; p++) {
    result.push(
      ids.slice(Math.floor((p * ids.length) / pieces), Math.floor(((p + 1) * ids.length) / pieces)),
    );
  }
  return result;
}

function total(chunks: readonly ChunkRef[]): number {
  return chunks.reduce((sum, c) => sum + c.size, 0);
}
