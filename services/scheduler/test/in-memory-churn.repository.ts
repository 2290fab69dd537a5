import type {
  ChurnDay,
  ChurnIncrement,
  ChurnRepositoryPort,
} from '../src/churn/churn.repository.port';

/** Churn counters in memory, with the store's conditional write on the partition's mark. */
export class InMemoryChurnRepository implements ChurnRepositoryPort {
  readonly days = new Map<string, ChurnDay>();
  /** Runs before each write: a test's way to let another writer in between read and write. */
  beforeAdd: (increment: ChurnIncrement) => Promise<void> = async () => undefined;
  /** Round trips a store would take: finds, and addAll calls (one write each). */
  readonly trips = { reads: 0, writes: 0 };

  async find(segmentId: string, days: readonly string[]): Promise<ChurnDay[]> {
    this.trips.reads++;
    return days.flatMap((day) => {
      const found = this.days.get(`${segmentId}/${day}`);
      return found ? [structuredClone(found)] : [];
    });
  }

  async addAll(increments: readonly ChurnIncrement[]): Promise<boolean> {
    this.trips.writes++;
    let applied = 0;
    for (const increment of increments) if (await this.add(increment)) applied++;
    return applied === increments.length;
  }

  private async add(increment: ChurnIncrement): Promise<boolean> {
    await this.beforeAdd(increment);
    const { segmentId, day, partition, expectedMark, mark, entered, exited } = increment;
    const id = `${segmentId}/${day}`;
    const current = this.days.get(id) ?? { segmentId, day, entered: 0, exited: 0, counted: {} };
    if (current.counted[String(partition)] !== expectedMark) return false;
    this.days.set(id, {
      ...current,
      entered: current.entered + entered,
      exited: current.exited + exited,
      counted: { ...current.counted, [String(partition)]: mark },
    });
    return true;
  }
}
