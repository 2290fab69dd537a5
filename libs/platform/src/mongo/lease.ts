import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Clock } from '../time/clock';
import { isDuplicateKey } from './mongo';

interface LeaseDocument {
  _id: string;
  holder: string;
  expiresAtMs: number;
}

/**
 * A named lease in the store: at most one holder at a time among a service's replicas, for
 * work that must not run twice at once (relaying an outbox in order, scheduling). Holding is
 * renewed by calling `acquire` again before `ttlMs` passes; a crashed holder's lease expires.
 * Single-document compare-and-set only, so it works on a replica set and the embedded store.
 */
export class MongoLease {
  readonly holder = randomBytes(8).toString('hex');
  private readonly leases;

  constructor(
    db: Db,
    private readonly name: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {
    this.leases = db.collection<LeaseDocument>('leases');
  }

  /** True when this process holds the lease now (taking it over if it expired). */
  async acquire(): Promise<boolean> {
    const now = this.clock.now().getTime();
    try {
      const result = await this.leases.updateOne(
        { _id: this.name, $or: [{ holder: this.holder }, { expiresAtMs: { $lt: now } }] },
        { $set: { holder: this.holder, expiresAtMs: now + this.ttlMs } },
        { upsert: true },
      );
      return result.matchedCount + result.upsertedCount === 1;
    } catch (error) {
      // the upsert raced another holder's live lease
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async release(): Promise<void> {
    await this.leases.deleteOne({ _id: this.name, holder: this.holder });
  }
}
