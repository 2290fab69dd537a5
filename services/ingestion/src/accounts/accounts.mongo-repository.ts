import type { JsonValue } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { MongoRepository } from '@shoal/platform';
import { type AnyBulkWriteOperation, Db } from 'mongodb';
import type { Stamped } from '../profiles/profile-state';
import { findByIds } from '../profiles/profiles.mongo-repository';
import type { AccountState } from './account-state';
import type { AccountRepositoryPort, AccountWrite } from './accounts.repository.port';

/** An account document; traits as {t, m, v} so that `$max` keeps the newest. */
interface AccountDocument {
  _id: string;
  traits?: Record<string, Stamped<JsonValue>>;
  firstSeenAt?: Date;
  lastSeenAt?: Date;
}

@Injectable()
export class MongoAccountRepository
  extends MongoRepository<AccountDocument>
  implements AccountRepositoryPort
{
  constructor(db: Db) {
    super(db, 'accounts');
  }

  async load(ids: readonly string[]): Promise<Map<string, AccountState>> {
    const docs = await findByIds(this.collection, ids);
    return new Map(docs.map((doc) => [doc._id, toState(doc)]));
  }

  async write(writes: readonly AccountWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const operations: AnyBulkWriteOperation<AccountDocument>[] = writes.map(
      ({ state, traits, all }) => {
        const max: Record<string, unknown> = { lastSeenAt: new Date(state.lastSeenAt) };
        for (const key of all ? state.traits.keys() : traits) {
          const entry = state.traits.get(key);
          if (entry) max[`traits.${key}`] = { t: entry.t, m: entry.m, v: entry.v };
        }
        return {
          updateOne: {
            filter: { _id: state.id },
            update: { $max: max, $min: { firstSeenAt: new Date(state.firstSeenAt) } },
            upsert: true,
          },
        };
      },
    );
    await this.collection.bulkWrite(operations, { ordered: false });
  }
}

function toState(doc: AccountDocument): AccountState {
  return {
    id: doc._id,
    traits: new Map(Object.entries(doc.traits ?? {})),
    firstSeenAt: (doc.firstSeenAt ?? new Date(0)).getTime(),
    lastSeenAt: (doc.lastSeenAt ?? new Date(0)).getTime(),
  };
}
