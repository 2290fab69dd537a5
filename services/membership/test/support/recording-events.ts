import type { PublishedTransition, Transition } from '../../src/evaluation/transition';
import type { MembershipEvents, RefreshReport } from '../../src/partitions/membership-events.port';
import type { PartitionStatus } from '../../src/partitions/partition-store.repository.port';

/** MembershipEvents that records what would be published, as one log per output partition. */
export class RecordingEvents implements MembershipEvents {
  readonly transitions: Transition[] = [];
  readonly statuses: PartitionStatus[] = [];
  readonly progress: RefreshReport[] = [];

  constructor(private readonly partitionOf: (profileId: string) => number) {}

  async publishTransitions(transitions: readonly Transition[]): Promise<void> {
    this.transitions.push(...transitions);
  }

  async publishStatuses(statuses: readonly PartitionStatus[]): Promise<void> {
    this.statuses.push(...statuses);
  }

  async publishProgress(reports: readonly RefreshReport[]): Promise<void> {
    this.progress.push(...reports);
  }

  async readPublished(
    from: ReadonlyMap<number, number>,
  ): Promise<Map<number, PublishedTransition[]>> {
    const out = new Map<number, PublishedTransition[]>();
    for (const [partition, offset] of from) out.set(partition, this.log(partition).slice(offset));
    return out;
  }

  async outputEnd(partition: number): Promise<number> {
    return this.log(partition).length;
  }

  async inputEnds(): Promise<{ changes: number; lists: number }> {
    return { changes: -1, lists: -1 };
  }

  private log(partition: number): Transition[] {
    return this.transitions.filter((t) => this.partitionOf(t.profileId) === partition);
  }
}
