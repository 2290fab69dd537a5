import type { Snapshot, SnapshotRepositoryPort } from '../src/insight/snapshots.repository.port';

/** Daily snapshots in memory, by (segment, day). */
export class InMemorySnapshotRepository implements SnapshotRepositoryPort {
  readonly snapshots = new Map<string, Snapshot>();
  private lastRun?: number;

  async save(snapshots: readonly Snapshot[]): Promise<void> {
    for (const s of snapshots) this.snapshots.set(`${s.segmentId}/${s.day}`, { ...s });
  }

  async find(segmentId: string, days: readonly string[]): Promise<Snapshot[]> {
    return days.flatMap((day) => {
      const found = this.snapshots.get(`${segmentId}/${day}`);
      return found ? [{ ...found }] : [];
    });
  }

  async lastRunMs(): Promise<number | undefined> {
    return this.lastRun;
  }

  async setLastRun(atMs: number): Promise<void> {
    this.lastRun = Math.max(this.lastRun ?? atMs, atMs);
  }
}
