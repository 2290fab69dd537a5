import { type JsonObject, fromJson, toJson } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { SegmentEvaluationStatusSchema } from '@shoal/contracts';
import { MongoRepository } from '@shoal/platform';
import { Db } from 'mongodb';
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

  async apply({ segmentId, reports, removedPartitions }: SegmentStatusChange) {
    const set: Record<string, JsonObject> = {};
    for (const report of reports)
      set[`partitions.${report.partition}`] = toJson(SegmentEvaluationStatusSchema, report, {
        alwaysEmitImplicit: true,
      }) as JsonObject;
    const unset: Record<string, ''> = {};
    for (const partition of removedPartitions) unset[`partitions.${partition}`] = '';
    const doc = await this.collection.findOneAndUpdate(
      { _id: segmentId },
      {
        ...(reports.length > 0 ? { $set: set } : {}),
        ...(removedPartitions.length > 0 ? { $unset: unset } : {}),
      },
      { upsert: true, returnDocument: 'after' },
    );
    const statuses = Object.values(doc?.partitions ?? {}).map((json) =>
      fromJson(SegmentEvaluationStatusSchema, json),
    );
    if (statuses.length === 0) await this.collection.deleteOne({ _id: segmentId });
    return statuses;
  }
}
