import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { type MembershipTransition, TransitionKind } from '@shoal/contracts';
import { dayOf } from '../insight/days';
import {
  CHURN_REPOSITORY,
  type ChurnDay,
  type ChurnIncrement,
  type ChurnRepositoryPort,
} from './churn.repository.port';

/** A transition as read from shoal.membership.changes, with where it was read. */
export interface CountedTransition {
  readonly partition: number;
  readonly offset: number;
  readonly transition: MembershipTransition;
}

/** How many times a (segment, day) is re-read when another writer moved it meanwhile. */
const MAX_ATTEMPTS = 10;

/** How many (segment, day, partition) marks are remembered between batches. */
const MAX_REMEMBERED_MARKS = 100_000;

/** One partition's transitions of one (segment, day) in a batch. */
interface Group {
  readonly key: string;
  readonly segmentId: string;
  readonly day: string;
  readonly partition: number;
  readonly transitions: CountedTransition[];
}

/**
 * Churn: per segment and day (UTC, by when membership changed), how many profiles entered and
 * exited, counted from the membership transitions topic into one counter document per
 * (segment, day). Each transition counts once: membership publishes a transition id once
 * (docs/membership.md, "Replay does not re-decide what was already published"), so a
 * duplicate is a re-delivery of the same record, which each document's per-partition offset
 * mark recognises — also when the batches delivered again are cut differently.
 *
 * A batch is one write for all its (segment, day, partition) groups: the marks this consumer
 * wrote are remembered, so a group is read only the first time it is met. Each write still
 * holds only if the stored mark is the one remembered; when another consumer moved one (a
 * rebalance), the batch's groups are read again and counted one by one.
 */
@Injectable()
export class ChurnService {
  /** "<segment>/<day>#<partition>" → the partition's mark as last read or written (null: none). */
  private readonly marks = new Map<string, number | null>();

  constructor(@Inject(CHURN_REPOSITORY) private readonly churn: ChurnRepositoryPort) {}

  /** Counts a batch of transitions (in offset order per partition); a re-delivery adds nothing. */
  async count(transitions: readonly CountedTransition[]): Promise<void> {
    const groups = groupsOf(transitions);
    await this.recallMarks(groups.filter((g) => !this.marks.has(g.key)));
    const increments = groups.flatMap((group) => {
      const increment = incrementOf(group, this.marks.get(group.key) ?? undefined);
      return increment ? [{ group, increment }] : [];
    });
    if (increments.length === 0) return;
    if (await this.churn.addAll(increments.map((i) => i.increment))) {
      for (const { group, increment } of increments) this.remember(group.key, increment.mark);
      return;
    }
    // another writer moved a mark: some increments may have been applied, none twice if read again
    for (const { group } of increments) this.marks.delete(group.key);
    await Promise.all(increments.map(({ group }) => this.countAlone(group)));
  }

  /** Each day's churn of a segment, one per day asked (zeros for a day nothing changed). */
  async days(segmentId: string, days: readonly string[]): Promise<ChurnDay[]> {
    const found = new Map((await this.churn.find(segmentId, days)).map((d) => [d.day, d]));
    return days.map(
      (day) => found.get(day) ?? { segmentId, day, entered: 0, exited: 0, counted: {} },
    );
  }

  /** Reads the stored marks of groups met for the first time (one read per segment and day). */
  private async recallMarks(groups: readonly Group[]): Promise<void> {
    const bySegmentDay = new Map<string, Group[]>();
    for (const group of groups) {
      const key = `${group.segmentId}/${group.day}`;
      const same = bySegmentDay.get(key);
      if (same) same.push(group);
      else bySegmentDay.set(key, [group]);
    }
    await Promise.all(
      [...bySegmentDay.values()].map(async (same) => {
        const { segmentId, day } = same[0] as Group;
        const [stored] = await this.churn.find(segmentId, [day]);
        for (const group of same) this.remember(group.key, stored?.counted[group.partition]);
      }),
    );
  }

  /** One group read and written on its own, again while another writer moves its mark. */
  private async countAlone(group: Group): Promise<void> {
    const { segmentId, day, partition } = group;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [stored] = await this.churn.find(segmentId, [day]);
      const mark = stored?.counted[String(partition)];
      const increment = incrementOf(group, mark);
      if (!increment) return this.remember(group.key, mark);
      if (await this.churn.addAll([increment])) return this.remember(group.key, increment.mark);
    }
    throw new Error(
      `churn of ${segmentId} on ${day} kept changing under partition ${partition}'s writer`,
    );
  }

  private remember(key: string, mark: number | undefined): void {
    this.marks.delete(key);
    this.marks.set(key, mark ?? null);
    if (this.marks.size > MAX_REMEMBERED_MARKS) {
      const oldest = this.marks.keys().next();
      if (!oldest.done) this.marks.delete(oldest.value);
    }
  }
}

/** A batch's entries and exits by (segment, day of the change, partition), in batch order. */
function groupsOf(transitions: readonly CountedTransition[]): Group[] {
  const groups = new Map<string, Group>();
  for (const t of transitions) {
    const { segmentId, occurredAt, kind } = t.transition;
    if (kind !== TransitionKind.ENTERED && kind !== TransitionKind.EXITED) continue;
    if (!segmentId || !occurredAt) continue;
    const day = dayOf(timestampMs(occurredAt));
    const key = `${segmentId}/${day}#${t.partition}`;
    const group = groups.get(key);
    if (group) group.transitions.push(t);
    else groups.set(key, { key, segmentId, day, partition: t.partition, transitions: [t] });
  }
  return [...groups.values()];
}

/** What a group adds beyond its partition's mark (undefined: nothing, all counted already). */
function incrementOf(group: Group, expectedMark: number | undefined): ChurnIncrement | undefined {
  let entered = 0;
  let exited = 0;
  let mark = -1;
  for (const t of group.transitions) {
    if (expectedMark !== undefined && t.offset <= expectedMark) continue;
    if (t.transition.kind === TransitionKind.ENTERED) entered++;
    else exited++;
    mark = Math.max(mark, t.offset);
  }
  if (entered + exited === 0) return undefined;
  const { segmentId, day, partition } = group;
  return { segmentId, day, partition, expectedMark, mark, entered, exited };
}
