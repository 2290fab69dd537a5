import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { type MembershipTransition, TransitionKind } from '@shoal/contracts';
import { dayOf } from '../insight/days';
import { CHURN_REPOSITORY, type ChurnDay, type ChurnRepositoryPort } from './churn.repository.port';

/** A transition as read from shoal.membership.changes, with where it was read. */
export interface CountedTransition {
  readonly partition: number;
  readonly offset: number;
  readonly transition: MembershipTransition;
}

/** How many times a (segment, day) is re-read when another writer moved it meanwhile. */
const MAX_ATTEMPTS = 10;

/**
 * Churn: per segment and day (UTC, by when membership changed), how many profiles entered and
 * exited, counted from the membership transitions topic into one counter document per
 * (segment, day). Each transition counts once: membership publishes a transition id once
 * (docs/membership.md, "Replay does not re-decide what was already published"), so a
 * duplicate is a re-delivery of the same record, which each document's per-partition offset
 * mark recognises — also when the batches delivered again are cut differently.
 */
@Injectable()
export class ChurnService {
  constructor(@Inject(CHURN_REPOSITORY) private readonly churn: ChurnRepositoryPort) {}

  /** Counts a batch of transitions (in offset order per partition); a re-delivery adds nothing. */
  async count(transitions: readonly CountedTransition[]): Promise<void> {
    const groups = new Map<string, CountedTransition[]>();
    for (const t of transitions) {
      const { segmentId, occurredAt, kind } = t.transition;
      if (kind !== TransitionKind.ENTERED && kind !== TransitionKind.EXITED) continue;
      if (!segmentId || !occurredAt) continue;
      const key = JSON.stringify([segmentId, dayOf(timestampMs(occurredAt)), t.partition]);
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    await Promise.all(
      [...groups].map(([key, group]) => {
        const [segmentId, day] = JSON.parse(key) as [string, string, number];
        return this.countInto(segmentId, day, group);
      }),
    );
  }

  /** Each day's churn of a segment, one per day asked (zeros for a day nothing changed). */
  async days(segmentId: string, days: readonly string[]): Promise<ChurnDay[]> {
    const found = new Map((await this.churn.find(segmentId, days)).map((d) => [d.day, d]));
    return days.map(
      (day) => found.get(day) ?? { segmentId, day, entered: 0, exited: 0, counted: {} },
    );
  }

  /** One partition's transitions of one (segment, day), beyond the document's mark. */
  private async countInto(segmentId: string, day: string, group: readonly CountedTransition[]) {
    const partition = group[0]?.partition as number;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [current] = await this.churn.find(segmentId, [day]);
      const expectedMark = current?.counted[String(partition)];
      const fresh = group.filter((t) => expectedMark === undefined || t.offset > expectedMark);
      if (fresh.length === 0) return;
      const entered = fresh.filter((t) => t.transition.kind === TransitionKind.ENTERED).length;
      const added = await this.churn.add({
        segmentId,
        day,
        partition,
        expectedMark,
        mark: Math.max(...fresh.map((t) => t.offset)),
        entered,
        exited: fresh.length - entered,
      });
      if (added) return;
    }
    throw new Error(
      `churn of ${segmentId} on ${day} kept changing under partition ${partition}'s writer`,
    );
  }
}
