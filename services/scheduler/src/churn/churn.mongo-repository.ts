import { Injectable } from '@nestjs/common';
import { MongoRepository, duplicateKeyRefusals } from '@shoal/platform';
import { type AnyBulkWriteOperation, Db, type Filter } from 'mongodb';
import type { ChurnDay, ChurnIncrement, ChurnRepositoryPort } from './churn.repository.port';

interface ChurnDocument {
  /** "<segment id>/<day>" */
  _id: string;
  segmentId: string;
  day: string;
  entered: number;
  exited: number;
  /** Per input partition, the offset of the last transition counted here. */
  counted: Record<string, number>;
}

const idOf = (segmentId: string, day: string) => `${segmentId}/${day}`;

@Injectable()
export class MongoChurnRepository
  extends MongoRepository<ChurnDocument>
  implements ChurnRepositoryPort
{
  constructor(db: Db) {
    super(db, 'churn');
  }

  async find(segmentId: string, days: readonly string[]): Promise<ChurnDay[]> {
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
              entered: d.entered,
              exited: d.exited,
              counted: d.counted ?? {},
            },
          ]
        : [],
    );
  }

  async addAll(increments: readonly ChurnIncrement[]): Promise<boolean> {
    if (increments.length === 0) return true;
    try {
      const result = await this.collection.bulkWrite(increments.map(conditionalAdd), {
        ordered: false,
      });
      return result.matchedCount + result.upsertedCount === increments.length;
    } catch (error) {
      // a document exists with a mark for that partition: counted meanwhile, read again
      if (duplicateKeyRefusals(error)) return false;
      throw error;
    }
  }
}

/** Adds to a (segment, day) if its partition's mark is still the one read. */
function conditionalAdd(increment: ChurnIncrement): AnyBulkWriteOperation<ChurnDocument> {
  const { segmentId, day, partition, expectedMark, mark, entered, exited } = increment;
  const field = `counted.${partition}`;
  return {
    updateOne: {
      filter: {
        _id: idOf(segmentId, day),
        [field]: expectedMark === undefined ? { $exists: false } : expectedMark,
      } as Filter<ChurnDocument>,
      update: {
        $inc: { entered, exited },
        $set: { [field]: mark },
        $setOnInsert: { segmentId, day },
      },
      // only a partition's first count may create the document; a later one must match it
      upsert: expectedMark === undefined,
    },
  };
}
