import { type JsonObject, fromJson, toJson } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { type SegmentEvaluationStatus, SegmentEvaluationStatusSchema } from '@shoal/contracts';
import { MongoRepository } from '@shoal/platform';
import { Db, type UpdateFilter } from 'mongodb';
import type {
  SegmentStatusChange,
  SegmentStatusRepositoryPort,
} from './segment-status.repository.port';

interface SegmentStatusDocument {
  _id: string;
  /** By partition number: the last SegmentEvaluationStatus in its JSON form. */
  partitions: Record<string, JsonObject>;
}

@Injectable()
export class MongoSegmentStatusRepository
  extends MongoRepository<SegmentStatusDocument>
  implements SegmentStatusRepositoryPort
{
  constructor(db: Db) {
    super(db, 'segment_status');
  }

  /**
   * Three commands for the whole batch, whatever its number of segments: one bulk write of
   * every segment's reports, one read of the documents back, and a delete of those left with no
   * partition (only while still empty, so a report another replica has just written stays).
   */
  async apply(changes: readonly SegmentStatusChange[]) {
    const answers = new Map<string, SegmentEvaluationStatus[]>();
    if (changes.length === 0) return answers;
    await this.collection.bulkWrite(
      changes.map((change) => ({
        updateOne: {
          filter: { _id: change.segmentId },
          update: updateOf(change),
          // removals alone make no document for a segment that has none
          upsert: change.reports.length > 0,
        },
      })),
      { ordered: false },
    );
    const ids = changes.map((c) => c.segmentId);
    const empty: string[] = [];
    for (const id of ids) answers.set(id, []);
    for await (const doc of this.collection.find({ _id: { $in: ids } })) {
      const statuses = Object.values(doc.partitions ?? {}).map((json) =>
        fromJson(SegmentEvaluationStatusSchema, json),
      );
      answers.set(doc._id, statuses);
      if (statuses.length === 0) empty.push(doc._id);
    }
    if (empty.length > 0)
      await this.collection.deleteMany({
        _id: { $in: empty },
        $or: [{ partitions: {} }, { partitions: { $exists: false } }],
      });
    return answers;
  }
}

/** A segment's reports set and its removed partitions unset, by partition number. */
function updateOf({
  reports,
  removedPartitions,
}: SegmentStatusChange): UpdateFilter<SegmentStatusDocument> {
  const set: Record<string, JsonObject> = {};
  for (const report of reports)
    set[`partitions.${report.partition}`] = toJson(SegmentEvaluationStatusSchema, report, {
      alwaysEmitImplicit: true,
    }) as JsonObject;
  const unset: Record<string, ''> = {};
  for (const partition of removedPartitions) unset[`partitions.${partition}`] = '';
  return {
    ...(reports.length > 0 ? { $set: set } : {}),
    ...(removedPartitions.length > 0 ? { $unset: unset } : {}),
  } as UpdateFilter<SegmentStatusDocument>;
}
