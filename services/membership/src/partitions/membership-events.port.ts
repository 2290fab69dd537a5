import type { RefreshState } from '@shoal/contracts';
import type { ContactOutput } from '../evaluation/contacts';
import type { PublishedTransition, Transition } from '../evaluation/transition';
import type { PartitionStatus } from './partition-store.repository.port';

export const MEMBERSHIP_EVENTS = Symbol('MembershipEvents');

/** A refresh job's progress in one partition. */
export interface RefreshReport {
  readonly jobId: string;
  readonly segmentId: string;
  readonly segmentVersion: number;
  readonly partition: number;
  readonly partitionCount: number;
  readonly state: RefreshState;
  readonly processed: number;
  readonly total: number;
  readonly entered: number;
  readonly exited: number;
  readonly detail: string;
  readonly startedAt: number;
  readonly reportedAt: number;
  /** A re-evaluation after a rule change, which nobody requested (RefreshProgress.rule_change). */
  readonly ruleChange?: boolean;
}

/** What membership publishes, and what it reads back of its own output and its inputs' ends. */
export interface MembershipEvents {
  /** Resolves once every transition is acknowledged by the cluster. */
  publishTransitions(transitions: readonly Transition[]): Promise<void>;
  /**
   * Resolves once every contact record (keyed by account id) and every `settled` marker (one per
   * partition of the contacts topic) from this partition is acknowledged.
   */
  publishContacts(
    outputs: readonly ContactOutput[],
    from: { partition: number; partitionCount: number },
  ): Promise<void>;
  publishStatuses(
    statuses: readonly PartitionStatus[],
    removed: readonly { segmentId: string; partition: number }[],
  ): Promise<void>;
  publishProgress(reports: readonly RefreshReport[]): Promise<void>;
  /** Transitions on the output topic's partitions, from the given offsets to their ends. */
  readPublished(from: ReadonlyMap<number, number>): Promise<Map<number, PublishedTransition[]>>;
  /** The next offset of a partition of the output topic. */
  outputEnd(partition: number): Promise<number>;
  /** The last offset of a partition of each input topic (-1 when empty). */
  inputEnds(partition: number): Promise<{ changes: number; lists: number; contacts: number }>;
}
