import type { ContactOutput } from '../../src/evaluation/contacts';
import type { PublishedTransition, Transition } from '../../src/evaluation/transition';
import type { MembershipEvents, RefreshReport } from '../../src/partitions/membership-events.port';
import type { PartitionStatus } from '../../src/partitions/partition-store.repository.port';

/** MembershipEvents that records what would be published, as one log per output partition. */
export class RecordingEvents implements MembershipEvents {
  readonly transitions: Transition[] = [];
  readonly statuses: PartitionStatus[] = [];
  /** Status keys published as tombstones (`<segment id>/<partition>`). */
  readonly removedStatuses: string[] = [];
  readonly progress: RefreshReport[] = [];
  readonly contacts: ContactOutput[] = [];

  constructor(private readonly partitionOf: (profileId: string) => number) {}

  async publishTransitions(transitions: readonly Transition[]): Promise<void> {
    this.transitions.push(...transitions);
  }

  async publishContacts(outputs: readonly ContactOutput[]): Promise<void> {
    this.contacts.push(...outputs);
  }

  async publishStatuses(
    statuses: readonly PartitionStatus[],
    removed: readonly { segmentId: string; partition: number }[],
  ): Promise<void> {
    this.statuses.push(...statuses);
    this.removedStatuses.push(...removed.map((key) => `${key.segmentId}/${key.partition}`));
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

  async inputEnds(): Promise<{ changes: number; lists: number; contacts: number }> {
    return { changes: -1, lists: -1, contacts: -1 };
  }

  private log(partition: number): Transition[] {
    return this.transitions.filter((t) => this.partitionOf(t.profileId) === partition);
  }
}
