import { Injectable } from '@nestjs/common';
import { MongoRepository } from '@shoal/platform';
import { type AnyBulkWriteOperation, Db } from 'mongodb';

/** One (list, member) pair: whether it is on the list now, and how many times it changed. */
export interface ListMember {
  readonly listId: string;
  readonly memberId: string;
  readonly member: boolean;
  /** Increases with every change of the pair; consumers keep the highest. */
  readonly sequence: number;
  readonly changedAtMs: number;
  readonly changedBy: string;
}

export interface MemberChange {
  readonly listId: string;
  readonly memberId: string;
  readonly member: boolean;
  readonly changedAtMs: number;
  readonly changedBy: string;
}

export const LIST_MEMBER_REPOSITORY = Symbol('ListMemberRepository');

export interface ListMemberRepositoryPort {
  /** The current pairs for these members (absent ones were never on the list). */
  find(listId: string, memberIds: readonly string[]): Promise<Map<string, ListMember>>;
  /** Applies changes (each becomes pending publication). */
  apply(changes: readonly MemberChange[]): Promise<void>;
  count(listId: string): Promise<number>;
  /** Members in id order after `afterMemberId`. */
  page(listId: string, afterMemberId: string, limit: number): Promise<string[]>;
  pending(limit: number): Promise<ListMember[]>;
  /** Marks a change published, unless the pair changed again since. */
  published(member: ListMember): Promise<void>;
}

interface ListMemberDocument extends ListMember {
  _id: string;
  pending: boolean;
}

const pairId = (listId: string, memberId: string) => `${listId}\u0000${memberId}`;

@Injectable()
export class MongoListMemberRepository
  extends MongoRepository<ListMemberDocument>
  implements ListMemberRepositoryPort
{
  constructor(db: Db) {
    super(db, 'list_members', [
      { key: { listId: 1, member: 1, memberId: 1 }, name: 'list_members_by_id' },
      { key: { pending: 1 }, name: 'pending', partialFilterExpression: { pending: true } },
    ]);
  }

  async find(listId: string, memberIds: readonly string[]): Promise<Map<string, ListMember>> {
    // parallel point reads by _id: constant time each on every store
    const docs = await Promise.all(
      memberIds.map((id) => this.collection.findOne({ _id: pairId(listId, id) })),
    );
    return new Map(docs.filter((d): d is ListMemberDocument => !!d).map((d) => [d.memberId, d]));
  }

  async apply(changes: readonly MemberChange[]): Promise<void> {
    if (changes.length === 0) return;
    const operations: AnyBulkWriteOperation<ListMemberDocument>[] = changes.map((c) => ({
      updateOne: {
        filter: { _id: pairId(c.listId, c.memberId) },
        update: {
          $set: {
            listId: c.listId,
            memberId: c.memberId,
            member: c.member,
            changedAtMs: c.changedAtMs,
            changedBy: c.changedBy,
            pending: true,
          },
          $inc: { sequence: 1 },
        },
        upsert: true,
      },
    }));
    await this.collection.bulkWrite(operations, { ordered: false });
  }

  count(listId: string): Promise<number> {
    return this.collection.countDocuments({ listId, member: true });
  }

  async page(listId: string, afterMemberId: string, limit: number): Promise<string[]> {
    const docs = await this.collection
      .find({
        listId,
        member: true,
        ...(afterMemberId ? { memberId: { $gt: afterMemberId } } : {}),
      })
      .sort({ memberId: 1 })
      .limit(limit)
      .project<{ memberId: string }>({ memberId: 1 })
      .toArray();
    return docs.map((d) => d.memberId);
  }

  async pending(limit: number): Promise<ListMember[]> {
    return this.collection.find({ pending: true }).limit(limit).toArray();
  }

  async published(member: ListMember): Promise<void> {
    await this.collection.updateOne(
      { _id: pairId(member.listId, member.memberId), sequence: member.sequence },
      { $set: { pending: false } },
    );
  }
}
