import { Injectable } from '@nestjs/common';
import { MongoRepository } from '@shoal/platform';
import { Db } from 'mongodb';
import type { Snapshot, SnapshotRepositoryPort } from './snapshots.repository.port';

interface SnapshotDocument {
  /** "<segment id>/<day>" */
  _id: string;
  segmentId: string;
  day: string;
  memberCount: number;
  valueSum?: number;
  valueTrait?: string;
  takenAtMs: number;
}

const idOf = (segmentId: string, day: string) => `${segmentId}/${day}`;

@Injectable()
export class MongoSnapshotRepository
  extends MongoRepository<SnapshotDocument>
  implements SnapshotRepositoryPort
{
  private readonly runs;

  constructor(db: Db) {
    super(db, 'snapshots');
    this.runs = this.collectionOf<{ _id: 'daily'; lastRunMs: number }>('snapshot_runs');
  }

  async save(snapshots: readonly Snapshot[]): Promise<void> {
    if (snapshots.length === 0) return;
    await this.collection.bulkWrite(
      snapshots.map((s) => ({
        replaceOne: {
          filter: { _id: idOf(s.segmentId, s.day) },
          replacement: { ...s },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  async find(segmentId: string, days: readonly string[]): Promise<Snapshot[]> {
    // parallel point reads by _id: constant time each on the embedded store, unlike a range
    const docs = await Promise.all(
      days.map((day) => this.collection.findOne({ _id: idOf(segmentId, day) })),
    );
    return docs.flatMap((d) =>
      d
        ? [
            {
              segmentId: d.segmentId,
              day: d.day,
              memberCount: d.memberCount,
              ...(d.valueSum === undefined || d.valueTrait === undefined
                ? {}
                : { valueSum: d.valueSum, valueTrait: d.valueTrait }),
              takenAtMs: d.takenAtMs,
            },
          ]
        : [],
    );
  }

  async lastRunMs(): Promise<number | undefined> {
    return (await this.runs.findOne({ _id: 'daily' }))?.lastRunMs;
  }

  async setLastRun(atMs: number): Promise<void> {
    await this.runs.updateOne({ _id: 'daily' }, { $max: { lastRunMs: atMs } }, { upsert: true });
  }
}
