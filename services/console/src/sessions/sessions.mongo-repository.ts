import { Injectable } from '@nestjs/common';
import { MongoRepository } from '@shoal/platform';
import { Db } from 'mongodb';
import type { ConsoleSession } from './session';
import type { SessionRepositoryPort } from './sessions.repository.port';

interface SessionDocument {
  _id: string;
  subject: string;
  groups: string[];
  token: string;
  createdAt: Date;
  expiresAt: Date;
}

@Injectable()
export class MongoSessionRepository
  extends MongoRepository<SessionDocument>
  implements SessionRepositoryPort
{
  constructor(db: Db) {
    // MongoDB removes expired sessions itself; reads check the expiry too
    super(db, 'sessions', [{ key: { expiresAt: 1 }, name: 'expiry', expireAfterSeconds: 0 }]);
  }

  async save(session: ConsoleSession): Promise<void> {
    const { id, ...rest } = session;
    await this.collection.replaceOne(
      { _id: id },
      { ...rest, groups: [...rest.groups] },
      { upsert: true },
    );
  }

  async find(id: string): Promise<ConsoleSession | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    if (!doc) return undefined;
    return {
      id: doc._id,
      subject: doc.subject,
      groups: doc.groups,
      token: doc.token,
      createdAt: doc.createdAt,
      expiresAt: doc.expiresAt,
    };
  }

  async delete(id: string): Promise<void> {
    await this.collection.deleteOne({ _id: id });
  }
}
