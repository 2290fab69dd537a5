/**
 * A min-heap of (instant, profile id): the timers of one partition. Entries are not removed when
 * a profile's timer moves; the owner checks, when an entry comes due, that it is still the
 * profile's current instant (lazy deletion keeps every operation O(log n)).
 */
export class TimerQueue {
  private readonly heap: { at: number; id: string }[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(at: number, id: string): void {
    const heap = this.heap;
    heap.push({ at, id });
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= at) break;
      [heap[parent], heap[index]] = [heap[index] as never, heap[parent] as never];
      index = parent;
    }
  }

  /** The earliest instant queued, if any. */
  peek(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Removes and returns the earliest entry when it is due at `now` or earlier. */
  popDue(now: number): { at: number; id: string } | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined || top.at > now) return undefined;
    const last = heap.pop() as { at: number; id: string };
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (
          left < heap.length &&
          (heap[left] as { at: number }).at < (heap[smallest] as { at: number }).at
        )
          smallest = left;
        if (
          right < heap.length &&
          (heap[right] as { at: number }).at < (heap[smallest] as { at: number }).at
        )
          smallest = right;
        if (smallest === index) break;
        [heap[smallest], heap[index]] = [heap[index] as never, heap[smallest] as never];
        index = smallest;
      }
    }
    return top;
  }
}
