import type { Collection, Db, Document, IndexDescription } from 'mongodb';
import { timeLimitedCollection } from './store-time-limit';

/**
 * Base of every repository: the only code that touches a MongoDB collection. A repository
 * names its collection and declares the indexes its queries need; the platform ensures them
 * at start-up. No transactions or change streams anywhere (the embedded store has neither):
 * writes are single-document and idempotent (upserts by deterministic ids). Reads made for a
 * gRPC call are time-limited (store-time-limit.ts): one slow query cannot hold the call; other
 * single-answer operations are given up after STORE_OPERATION_DEADLINE_MS as transient failures.
 */
export abstract class MongoRepository<TDoc extends Document> {
  protected readonly collection: Collection<TDoc>;

  protected constructor(
    private readonly database: Db,
    readonly collectionName: string,
    readonly indexes: readonly IndexDescription[] = [],
  ) {
    this.collection = timeLimitedCollection(database.collection<TDoc>(collectionName));
  }

  private readonly others = new Map<string, Collection<Document>>();

  /**
   * Another collection the repository owns, with the same time limits as its own; wrapped once
   * per name, so a repository may ask for it on every use.
   */
  protected collectionOf<T extends Document>(name: string): Collection<T> {
    let other = this.others.get(name);
    if (!other) {
      other = timeLimitedCollection(this.database.collection<Document>(name));
      this.others.set(name, other);
    }
    return other as unknown as Collection<T>;
  }

  async ensureIndexes(): Promise<void> {
    if (this.indexes.length > 0) await this.collection.createIndexes([...this.indexes]);
  }
}
