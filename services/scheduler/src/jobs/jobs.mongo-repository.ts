import { Injectable } from '@nestjs/common';
import { JobStatus, JobStatusSchema, JobTriggerSchema } from '@shoal/contracts';
import { MongoRepository, isDuplicateKey } from '@shoal/platform';
import { Db, type Filter } from 'mongodb';
import { FINAL_REFRESH_STATES, type Job, type PartitionReport } from './job';
import type { JobListCriteria, JobRepositoryPort, SegmentJobs } from './jobs.repository.port';

/** A job with its enums as their proto names, as everywhere in Shoal's documents. */
type JobDocument = Omit<Job, 'id' | 'status' | 'trigger'> & {
  _id: string;
  status: string;
  trigger: string;
};

interface SegmentJobsDocument {
  _id: string;
  activeJobId?: string | null;
  lastJobId?: string;
  lastJobStatus?: string;
  lastSucceededAtMs?: number;
  lastTickMs?: number;
}

interface JobIndexDocument {
  _id: 'active' | 'last-failure';
  jobIds?: string[];
  jobId?: string;
}

const nameOf = (status: JobStatus) =>
  JobStatusSchema.values.find((v) => v.number === status)?.name ?? String(status);
const statusOf = (name: string) =>
  (JobStatusSchema.values.find((v) => v.name === name)?.number ?? 0) as JobStatus;

function toDocument(job: Job): JobDocument {
  const { id, status, trigger, ...rest } = job;
  return {
    _id: id,
    ...rest,
    status: nameOf(status),
    trigger: JobTriggerSchema.values.find((v) => v.number === trigger)?.name ?? String(trigger),
  };
}

function fromDocument(doc: JobDocument): Job {
  const { _id, status, trigger, ...rest } = doc;
  return {
    ...rest,
    id: _id,
    status: statusOf(status),
    trigger: JobTriggerSchema.values.find((v) => v.name === trigger)?.number ?? 0,
  };
}

@Injectable()
export class MongoJobRepository extends MongoRepository<JobDocument> implements JobRepositoryPort {
  private readonly segments;
  private readonly index;

  constructor(db: Db) {
    super(db, 'jobs', [
      { key: { segmentId: 1, createdAtMs: -1 }, name: 'segment_created' },
      { key: { createdAtMs: -1 }, name: 'created' },
    ]);
    this.segments = this.collectionOf<SegmentJobsDocument>('segment_jobs');
    this.index = this.collectionOf<JobIndexDocument>('job_index');
  }

  async insert(job: Job): Promise<boolean> {
    try {
      await this.collection.insertOne(toDocument(job));
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async find(id: string): Promise<Job | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? fromDocument(doc) : undefined;
  }

  async update(id: string, from: readonly JobStatus[], fields: Partial<Job>) {
    const { id: _id, status, trigger: _trigger, ...rest } = fields;
    const doc = await this.collection.findOneAndUpdate(
      { _id: id, status: { $in: from.map(nameOf) } },
      { $set: { ...rest, ...(status === undefined ? {} : { status: nameOf(status) }) } },
      { returnDocument: 'after' },
    );
    return doc ? fromDocument(doc) : undefined;
  }

  async report(id: string, partition: number, report: PartitionReport, heardAtMs: number) {
    const key = `partitions.${partition}`;
    const doc = await this.collection.findOneAndUpdate(
      {
        _id: id,
        [`${key}.state`]: { $nin: [...FINAL_REFRESH_STATES] },
      } as Filter<JobDocument>,
      { $set: { [key]: { ...report }, lastReportAtMs: heardAtMs } },
      { returnDocument: 'after' },
    );
    return doc ? fromDocument(doc) : this.find(id);
  }

  async markDispatched(
    id: string,
    fields: Pick<Job, 'dispatchedAtMs' | 'partitionCount' | 'warnings'>,
  ): Promise<Job | undefined> {
    const doc = await this.collection.findOneAndUpdate(
      { _id: id, status: nameOf(JobStatus.QUEUED), dispatchedAtMs: { $exists: false } },
      { $set: { ...fields } },
      { returnDocument: 'after' },
    );
    return doc ? fromDocument(doc) : undefined;
  }

  async unmarkDispatched(id: string, dispatchedAtMs: number): Promise<void> {
    await this.collection.updateOne(
      { _id: id, status: nameOf(JobStatus.QUEUED), dispatchedAtMs },
      { $unset: { dispatchedAtMs: '' } },
    );
  }

  async remove(id: string): Promise<void> {
    await this.collection.deleteOne({ _id: id });
  }

  async list(c: JobListCriteria): Promise<Job[]> {
    const and: Filter<JobDocument>[] = [];
    if (c.segmentIds) and.push({ segmentId: { $in: [...c.segmentIds] } });
    if (c.statuses.length > 0) and.push({ status: { $in: c.statuses.map(nameOf) } });
    if (c.createdAfterMs !== undefined) and.push({ createdAtMs: { $gte: c.createdAfterMs } });
    if (c.createdBeforeMs !== undefined) and.push({ createdAtMs: { $lt: c.createdBeforeMs } });
    if (c.after)
      and.push({
        $or: [
          { createdAtMs: { $lt: c.after.createdAtMs } },
          { createdAtMs: c.after.createdAtMs, _id: { $gt: c.after.id } },
        ],
      });
    const docs = await this.collection
      .find(and.length > 0 ? { $and: and } : {})
      .sort({ createdAtMs: -1, _id: 1 })
      .limit(c.limit)
      .toArray();
    return docs.map(fromDocument);
  }

  async claimSegment(segmentId: string, jobId: string): Promise<string> {
    try {
      const doc = await this.segments.findOneAndUpdate(
        { _id: segmentId, $or: [{ activeJobId: null }, { activeJobId: { $exists: false } }] },
        { $set: { activeJobId: jobId } },
        { upsert: true, returnDocument: 'after' },
      );
      return doc?.activeJobId ?? jobId;
    } catch (error) {
      // the segment has an active job: the upsert found no match and met its _id
      if (!isDuplicateKey(error)) throw error;
      const doc = await this.segments.findOne({ _id: segmentId });
      return doc?.activeJobId ?? (await this.claimSegment(segmentId, jobId));
    }
  }

  async releaseSegment(segmentId: string, job: Job): Promise<void> {
    const ended = {
      lastJobId: job.id,
      lastJobStatus: nameOf(job.status),
      ...(job.status === JobStatus.SUCCEEDED && job.finishedAtMs !== undefined
        ? { lastSucceededAtMs: job.finishedAtMs }
        : {}),
    };
    await this.segments.updateOne({ _id: segmentId }, { $set: { ...ended } }, { upsert: true });
    await this.segments.updateOne(
      { _id: segmentId, activeJobId: job.id },
      { $set: { activeJobId: null } },
    );
  }

  async segmentJobs(segmentId: string): Promise<SegmentJobs> {
    const doc = await this.segments.findOne({ _id: segmentId });
    return {
      segmentId,
      ...(doc?.activeJobId ? { activeJobId: doc.activeJobId } : {}),
      ...(doc?.lastJobId ? { lastJobId: doc.lastJobId } : {}),
      ...(doc?.lastJobStatus ? { lastJobStatus: statusOf(doc.lastJobStatus) } : {}),
      ...(doc?.lastSucceededAtMs === undefined ? {} : { lastSucceededAtMs: doc.lastSucceededAtMs }),
      ...(doc?.lastTickMs === undefined ? {} : { lastTickMs: doc.lastTickMs }),
    };
  }

  async setLastTick(segmentId: string, tickMs: number): Promise<void> {
    await this.segments.updateOne(
      { _id: segmentId },
      { $max: { lastTickMs: tickMs } },
      { upsert: true },
    );
  }

  async activeJobIds(): Promise<string[]> {
    return (await this.index.findOne({ _id: 'active' }))?.jobIds ?? [];
  }

  async addActive(jobId: string): Promise<void> {
    await this.index.updateOne(
      { _id: 'active' },
      { $addToSet: { jobIds: jobId } },
      { upsert: true },
    );
  }

  async removeActive(jobId: string): Promise<void> {
    await this.index.updateOne({ _id: 'active' }, { $pull: { jobIds: jobId } });
  }

  async lastFailureId(): Promise<string | undefined> {
    return (await this.index.findOne({ _id: 'last-failure' }))?.jobId;
  }

  async setLastFailure(jobId: string): Promise<void> {
    await this.index.updateOne({ _id: 'last-failure' }, { $set: { jobId } }, { upsert: true });
  }
}
