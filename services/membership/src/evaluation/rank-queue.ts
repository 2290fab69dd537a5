import type { CatalogueSegment } from './segment-catalogue';

/**
 * The segments one evaluation still has to decide, taken in dependency order (lowest rank
 * first): each is queued at most once, and adding or taking one costs O(log n), so an
 * evaluation costs what its seeds and their dependents cost, never a pass over every segment.
 */
export class RankQueue {
  private readonly heap: CatalogueSegment[] = [];
  private readonly seen = new Set<string>();

  /** Queues a segment unless it was queued before in this evaluation. */
  add(segment: CatalogueSegment): void {
    if (this.seen.has(segment.id)) return;
    this.seen.add(segment.id);
    const heap = this.heap;
    let at = heap.length;
    heap.push(segment);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const above = heap[parent] as CatalogueSegment;
      if (above.rank <= segment.rank) break;
      heap[at] = above;
      at = parent;
    }
    heap[at] = segment;
  }

  /** The queued segment of lowest rank, removed; undefined when none is left. */
  take(): CatalogueSegment | undefined {
    const heap = this.heap;
    const first = heap[0];
    const last = heap.pop();
    if (first === undefined || last === undefined || heap.length === 0) return first;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length &&
        (heap[right] as CatalogueSegment).rank < (heap[left] as CatalogueSegment).rank
          ? right
          : left;
      const below = heap[child] as CatalogueSegment;
      if (below.rank >= last.rank) break;
      heap[at] = below;
      at = child;
    }
    heap[at] = last;
    return first;
  }
}
