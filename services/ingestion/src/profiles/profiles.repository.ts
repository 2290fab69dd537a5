import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import { type IdentityKind, type Profile, ProfileSchema } from '@shoal/contracts';
import { MongoRepository } from '@shoal/platform';
import { type AnyBulkWriteOperation, Db } from 'mongodb';
import type { ProfileChange } from './profile-changes';

export const PROFILE_REPOSITORY = Symbol('ProfileRepository');

/** Where profiles are kept; the service depends on this port, not on MongoDB. */
export interface ProfileRepositoryPort {
  applyChanges(changes: readonly ProfileChange[]): Promise<void>;
  findById(profileId: string): Promise<Profile | undefined>;
  /** Profiles in id order after `afterId`, read with a cursor (constant memory). */
  streamAfter(afterId: string, limit: number): AsyncIterable<Profile>;
}

interface ProfileDocument {
  _id: string;
  identities: { kind: IdentityKind; value: string }[];
  traits: Record<string, unknown>;
  accountIds: string[];
  firstSeenAt: Date;
  lastSeenAt: Date;
}

@Injectable()
export class MongoProfileRepository
  extends MongoRepository<ProfileDocument>
  implements ProfileRepositoryPort
{
  constructor(db: Db) {
    super(db, 'profiles', [{ key: { 'identities.value': 1 }, name: 'identity_value' }]);
  }

  /** One unordered bulk write; every operation is an idempotent upsert by profile id. */
  async applyChanges(changes: readonly ProfileChange[]): Promise<void> {
    if (changes.length === 0) return;
    const operations: AnyBulkWriteOperation<ProfileDocument>[] = changes.map((change) => ({
      updateOne: {
        filter: { _id: change.profileId },
        update: {
          $setOnInsert: { _id: change.profileId },
          ...(Object.keys(change.traits).length > 0
            ? {
                $set: Object.fromEntries(
                  Object.entries(change.traits).map(([k, v]) => [`traits.${k}`, v]),
                ),
              }
            : {}),
          $addToSet: {
            identities: { $each: [...change.identities] },
            accountIds: { $each: [...change.accountIds] },
          },
          $min: { firstSeenAt: change.firstSeenAt },
          $max: { lastSeenAt: change.lastSeenAt },
        },
        upsert: true,
      },
    }));
    await this.collection.bulkWrite(operations, { ordered: false });
  }

  async findById(profileId: string): Promise<Profile | undefined> {
    const doc = await this.collection.findOne({ _id: profileId });
    return doc ? toProfile(doc) : undefined;
  }

  async *streamAfter(afterId: string, limit: number): AsyncIterable<Profile> {
    const cursor = this.collection
      .find(afterId ? { _id: { $gt: afterId } } : {})
      .sort({ _id: 1 })
      .limit(limit);
    for await (const doc of cursor) yield toProfile(doc);
  }
}

function toProfile(doc: ProfileDocument): Profile {
  return create(ProfileSchema, {
    id: doc._id,
    identities: doc.identities ?? [],
    traits: (doc.traits ?? {}) as Profile['traits'],
    accountIds: doc.accountIds ?? [],
    firstSeenAt: timestampFromDate(doc.firstSeenAt),
    lastSeenAt: timestampFromDate(doc.lastSeenAt),
  });
}
