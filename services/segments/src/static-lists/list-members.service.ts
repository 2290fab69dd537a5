import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { CLOCK, type Clock } from '@shoal/platform';
import {
  type ChunkPlan,
  type ChunkSizes,
  DEFAULT_CHUNK_SIZES,
  chunksForPage,
  pageFrom,
  planChange,
  sortedIds,
} from './member-chunks';
import {
  type KeyedIds,
  LIST_MEMBER_REPOSITORY,
  type ListChange,
  type ListHead,
  type ListMemberRepositoryPort,
  type ListWriter,
} from './list-members.repository.port';
import { StaticListError } from './static-lists.errors';

export interface ListMembersOptions {
  readonly sizes: ChunkSizes;
  /** Changed ids per outbox part (one document, one publish). */
  readonly partSize: number;
  /** How long a write attempt holds a list without renewing; a crashed writer blocks it that long. */
  readonly holdMs: number;
  /** How long a change waits for other writers of the same list before giving up. */
  readonly waitMs: number;
  /** Changes refused while a list has this many committed changes not yet published. */
  readonly maxUnpublished: number;
}

export const LIST_MEMBERS_OPTIONS = Symbol('ListMembersOptions');

export const DEFAULT_LIST_MEMBERS_OPTIONS: ListMembersOptions = {
  sizes: DEFAULT_CHUNK_SIZES,
  partSize: 5000,
  holdMs: 15_000,
  waitMs: 30_000,
  maxUnpublished: 1000,
};

/** One member change as published: `sequence` is the list's change number. */
export interface PublishedChange {
  readonly listId: string;
  readonly memberId: string;
  readonly member: boolean;
  readonly sequence: number;
  readonly changedAtMs: number;
  readonly changedBy: string;
}

/** A change part that could not be found and so was never published (it is skipped). */
export interface LostPart {
  readonly listId: string;
  readonly seq: number;
  readonly part: number;
}

const READ_ATTEMPTS = 5;
/** Chunk or part documents written between two renewals of a writer's hold. */
const WRITE_GROUP = 50;
/** Lists the relay serves per round, one part of their oldest change each. */
const LISTS_PER_ROUND = 20;

const attemptKey = (epoch: number, index: number) => `${epoch}.${index}`;

/**
 * The members of static lists, stored as chunks (see member-chunks.ts) and changed without
 * transactions. A change reads the list's head and the chunks it touches, claims the list
 * (compare-and-set on the head, so changes of one list run one at a time), writes the changed
 * ids as outbox parts and the new chunks under keys of its own attempt, then commits by
 * switching the head's chunk map and queueing the change for publication in one head update.
 * Whatever a crash leaves before the commit is invisible and belongs to an attempt the head
 * still names, so the next writer removes it; after the commit only replaced chunks remain,
 * which the head also names. A retried change finds its ids already applied and changes
 * nothing, so every call is idempotent.
 */
@Injectable()
export class ListMembersService {
  constructor(
    @Inject(LIST_MEMBER_REPOSITORY) private readonly members: ListMemberRepositoryPort,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional()
    @Inject(LIST_MEMBERS_OPTIONS)
    private readonly options: ListMembersOptions = DEFAULT_LIST_MEMBERS_OPTIONS,
  ) {}

  /**
   * Adds (`member` true) or removes ids; answers how many actually changed. Adding beyond
   * `maxMembers` is refused whole.
   */
  async change({
    listId,
    memberIds,
    member,
    changedBy,
    maxMembers,
  }: {
    listId: string;
    memberIds: readonly string[];
    member: boolean;
    changedBy: string;
    maxMembers: number;
  }): Promise<number> {
    const ids = sortedIds(memberIds);
    const giveUpAtMs = this.nowMs() + this.options.waitMs;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        // another writer holds the list, or committed or claimed it since it was read
        if (this.nowMs() > giveUpAtMs) throw StaticListError.busy(listId);
        await sleep(Math.min(10 * 2 ** Math.min(attempt, 6), 500));
      }
      const head = (await this.members.head(listId)) ?? emptyHead(listId);
      const nowMs = this.nowMs();
      if (head.writer && head.writer.untilMs > nowMs) continue;
      const epoch = head.epoch + 1;
      const plan = await this.plan(listId, head, ids, member, epoch);
      if (!plan) continue;
      if (plan.changed.length === 0) return 0;
      if (member && plan.count > maxMembers)
        throw StaticListError.tooManyMembers(listId, head.count, plan.changed.length, maxMembers);
      if (head.outbox.length >= this.options.maxUnpublished) {
        throw StaticListError.publishingBehind(listId, head.outbox.length);
      }
      const parts = cutParts(plan.changed, this.options.partSize, epoch);
      const writer: ListWriter = {
        epoch,
        untilMs: nowMs + this.options.holdMs,
        chunks: plan.written.length,
        parts: parts.length,
      };
      if (!(await this.members.claim(listId, head, writer))) continue;
      const change: ListChange = {
        seq: head.seq + 1,
        epoch,
        parts: parts.length,
        sent: 0,
        member,
        changedAtMs: nowMs,
        changedBy,
      };
      const committed = await this.write(listId, {
        abandoned: head.writer,
        plan,
        parts,
        writer,
        change,
      }).catch(async (error: unknown) => {
        // the commit may have applied after all: only end the hold, and let the next writer
        // (whose claim proves that nothing committed since) remove what this attempt wrote
        await this.members.hold(listId, epoch, 0).catch(() => undefined);
        throw error;
      });
      if (!committed) {
        await this.removeAttempt(listId, writer);
        continue;
      }
      // if this fails, the next writer deletes them (the head names them as garbage)
      await this.members
        .deleteChunks(listId, [...head.garbage, ...plan.replaced])
        .catch(() => undefined);
      return plan.changed.length;
    }
  }

  async count(listId: string): Promise<number> {
    return (await this.committed(listId)).count;
  }

  /** The list's member count and the change that left it so. */
  async committed(listId: string): Promise<{ count: number; seq: number }> {
    const head = await this.members.head(listId);
    return { count: head?.count ?? 0, seq: head?.seq ?? 0 };
  }

  /** Up to `limit` members in id order after `afterMemberId` (from the start when empty). */
  async page(listId: string, afterMemberId: string, limit: number): Promise<string[]> {
    const chunks = await this.read(listId, (head) =>
      chunksForPage(head.chunks, afterMemberId, limit),
    );
    return pageFrom(chunks, afterMemberId, limit);
  }

  /** Every member in id order, as of one committed state. */
  async all(listId: string): Promise<string[]> {
    const chunks = await this.read(listId, (head) => head.chunks.map((c) => c.key));
    return chunks.flat();
  }

  /**
   * Publishes the next part of the oldest unpublished change of a few lists, and drops changes
   * that are fully published. Each list's changes go out in change order, each change once or
   * (after a crash between publishing and recording it) again. `handled` counts the ids that
   * went out and the changes that finished (0 when nothing is pending); `lost` names parts that
   * could not be found.
   */
  async publishNext(
    publish: (changes: PublishedChange[]) => Promise<void>,
  ): Promise<{ handled: number; lost: LostPart[] }> {
    const pending = await this.members.unpublished(LISTS_PER_ROUND);
    let handled = 0;
    const lost: LostPart[] = [];
    for (const { listId, change } of pending) {
      let sent = change.sent;
      if (sent < change.parts) {
        const ids = await this.members.part(listId, attemptKey(change.epoch, sent));
        if (ids) {
          await publish(
            ids.map((memberId) => ({
              listId,
              memberId,
              member: change.member,
              sequence: change.seq,
              changedAtMs: change.changedAtMs,
              changedBy: change.changedBy,
            })),
          );
          handled += ids.length;
        } else {
          lost.push({ listId, seq: change.seq, part: sent });
        }
        sent++;
        await this.members.sent(listId, change.seq, sent);
      }
      if (sent === change.parts) {
        await this.members.deleteParts(listId, attemptKeys(change.epoch, change.parts));
        await this.members.published(listId, change.seq);
        handled++;
      }
    }
    return { handled, lost };
  }

  /** The plan of a change against the head's state; undefined when a chunk vanished meanwhile. */
  private async plan(
    listId: string,
    head: ListHead,
    ids: readonly string[],
    member: boolean,
    epoch: number,
  ): Promise<ChunkPlan | undefined> {
    const contents = new Map<string, readonly string[]>();
    for (;;) {
      const result = planChange({
        chunks: head.chunks,
        contents,
        ids,
        member,
        sizes: this.options.sizes,
        newKey: (index) => attemptKey(epoch, index),
      });
      if ('plan' in result) return result.plan;
      const found = await this.members.chunks(listId, result.missing);
      if (found.size < result.missing.length) return undefined;
      for (const [key, chunk] of found) contents.set(key, chunk);
    }
  }

  /**
   * Removes what an abandoned attempt wrote, writes the parts and chunks of a claimed change,
   * then commits it; false when the claim was lost meanwhile.
   */
  private async write(
    listId: string,
    {
      abandoned,
      plan,
      parts,
      writer,
      change,
    }: {
      abandoned: ListWriter | undefined;
      plan: ChunkPlan;
      parts: KeyedIds[];
      writer: ListWriter;
      change: ListChange;
    },
  ): Promise<boolean> {
    if (abandoned) await this.removeAttempt(listId, abandoned);
    let renewedAtMs = this.nowMs();
    const groups = [
      ...inGroups(parts).map((group) => () => this.members.writeParts(listId, group)),
      ...inGroups(plan.written).map((group) => () => this.members.writeChunks(listId, group)),
    ];
    for (const writeGroup of groups) {
      const nowMs = this.nowMs();
      if (nowMs - renewedAtMs > this.options.holdMs / 3) {
        if (!(await this.members.hold(listId, writer.epoch, nowMs + this.options.holdMs))) {
          return false;
        }
        renewedAtMs = nowMs;
      }
      await writeGroup();
    }
    return this.members.commit(
      listId,
      writer.epoch,
      { seq: change.seq, count: plan.count, chunks: plan.chunks, garbage: plan.replaced },
      change,
    );
  }

  /** Removes what an uncommitted attempt wrote. */
  private async removeAttempt(listId: string, writer: ListWriter): Promise<void> {
    await this.members.deleteParts(listId, attemptKeys(writer.epoch, writer.parts));
    await this.members.deleteChunks(listId, attemptKeys(writer.epoch, writer.chunks));
  }

  /** The chunks `keysOf` names, read from one committed state (again if a change replaced one). */
  private async read(
    listId: string,
    keysOf: (head: ListHead) => string[],
  ): Promise<(readonly string[])[]> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const head = await this.members.head(listId);
      if (!head) return [];
      const keys = keysOf(head);
      const found = await this.members.chunks(listId, keys);
      if (found.size === keys.length) return keys.map((key) => found.get(key) as readonly string[]);
    }
    throw StaticListError.busy(listId);
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }
}

function emptyHead(listId: string): ListHead {
  return { listId, epoch: 0, seq: 0, count: 0, chunks: [], garbage: [], outbox: [] };
}

function cutParts(ids: readonly string[], size: number, epoch: number): KeyedIds[] {
  const parts: KeyedIds[] = [];
  for (let i = 0; i < ids.length; i += size) {
    parts.push({ key: attemptKey(epoch, parts.length), ids: ids.slice(i, i + size) });
  }
  return parts;
}

function attemptKeys(epoch: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => attemptKey(epoch, i));
}

function inGroups<T>(items: readonly T[]): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += WRITE_GROUP) groups.push(items.slice(i, i + WRITE_GROUP));
  return groups;
}
