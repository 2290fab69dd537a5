import { Injectable } from '@nestjs/common';
import { MongoRepository, duplicateKeyRefusals } from '@shoal/platform';
import { Db } from 'mongodb';
import type { IdentityRepositoryPort } from './identities.repository.port';
import { findByIds } from './profiles.mongo-repository';

interface IdentityDocument {
  /** The identifier's key: "user:…", "anon:…", "trait:<name>:…". */
  _id: string;
  profileId: string;
}

@Injectable()
export class MongoIdentityRepository
  extends MongoRepository<IdentityDocument>
  implements IdentityRepositoryPort
{
  constructor(db: Db) {
    super(db, 'identities');
  }

  async claim(claims: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    if (claims.size === 0) return new Map();
    const documents = [...claims].map(([key, profileId]) => ({ _id: key, profileId }));
    try {
      await this.collection.insertMany(documents, { ordered: false });
      return new Map();
    } catch (error) {
      // only the server's duplicate-key refusals mean "claimed already"
      const refused = duplicateKeyRefusals(error);
      if (!refused) throw error;
      return this.find(refused.map((e) => documents[e.index]?._id as string));
    }
  }

  async find(keys: readonly string[]): Promise<Map<string, string>> {
    const docs = await findByIds(this.collection, keys);
    return new Map(docs.map((doc) => [doc._id, doc.profileId]));
  }

  async assign(owners: ReadonlyMap<string, string>): Promise<void> {
    if (owners.size === 0) return;
    await this.collection.bulkWrite(
      [...owners].map(([key, profileId]) => ({
        updateOne: { filter: { _id: key }, update: { $set: { profileId } }, upsert: true },
      })),
      { ordered: false },
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.collection.bulkWrite(
      keys.map((key) => ({ deleteOne: { filter: { _id: key } } })),
      { ordered: false },
    );
  }
}
