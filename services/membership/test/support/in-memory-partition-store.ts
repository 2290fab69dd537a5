import { MEMBER_BUCKETS } from '../../src/evaluation/member-index';
import type { HistoryChunk, ProfileState } from '../../src/evaluation/profile-state';
import { EMPTY_SUMMARY } from '../../src/evaluation/segment-catalogue';
import type {
  CheckpointWrite,
  PartitionDocument,
  PartitionStatus,
  PartitionStore,
} from '../../src/partitions/partition-store.repository.port';

/** PartitionStore in memory, for unit tests (the contract suite keeps it honest). */
export class InMemoryPartitionStore implements PartitionStore {
  readonly documents = new Map<number, PartitionDocument>();
  readonly states = new Map<string, string>();
  readonly chunks = new Map<string, HistoryChunk>();
  readonly members = new Map<string, string[]>();
  readonly statuses = new Map<string, PartitionStatus>();
  /** Status documents written (upserted or deleted) so far. */
  statusWrites = 0;

  async claim(partition: number, now: number): Promise<PartitionDocument> {
    const current = this.documents.get(partition);
    const next: PartitionDocument = current
      ? { ...current, epoch: current.epoch + 1 }
      : {
          partition,
          epoch: 1,
          createdAt: now,
          offsets: { changes: -1, lists: -1 },
          outputOffset: 0,
          applied: EMPTY_SUMMARY,
          digests: {},
          finishedJobs: {},
          refreshedAt: {},
        };
    this.documents.set(partition, next);
    return next;
  }

  async *loadStates(partition: number): AsyncIterable<ProfileState> {
    for (const [key, json] of this.states) {
      if (key.startsWith(`${partition}/`)) yield JSON.parse(json) as ProfileState;
    }
  }

  async findState(partition: number, profileId: string): Promise<ProfileState | undefined> {
    const json = this.states.get(`${partition}/${profileId}`);
    return json === undefined ? undefined : (JSON.parse(json) as ProfileState);
  }

  async *streamChunks(partition: number): AsyncIterable<HistoryChunk> {
    for (const [key, chunk] of this.chunks) if (key.startsWith(`${partition}/`)) yield chunk;
  }

  async findChunks(partition: number, ids: readonly string[]): Promise<HistoryChunk[]> {
    return ids.flatMap((id) => {
      const chunk = this.chunks.get(`${partition}/${id}`);
      return chunk === undefined ? [] : [chunk];
    });
  }

  async writeCheckpoint(partition: number, write: CheckpointWrite): Promise<boolean> {
    if (this.documents.get(partition)?.epoch !== write.document.epoch) return false;
    for (const chunk of write.chunks) this.chunks.set(`${partition}/${chunk.id}`, chunk);
    for (const [id, json] of write.states) this.states.set(`${partition}/${id}`, json);
    for (const id of write.deletedProfiles) this.states.delete(`${partition}/${id}`);
    for (const id of write.droppedChunks) this.chunks.delete(`${partition}/${id}`);
    for (const { segmentId, bucket, members } of write.buckets) {
      const key = `${segmentId}|${partition}|${bucket}`;
      if (members.length === 0) this.members.delete(key);
      else this.members.set(key, [...members]);
    }
    this.documents.set(partition, write.document);
    return true;
  }

  async writeStatuses(
    partition: number,
    epoch: number,
    statuses: readonly PartitionStatus[],
    removed: readonly string[],
  ): Promise<boolean> {
    if (this.documents.get(partition)?.epoch !== epoch) return false;
    for (const status of statuses) this.statuses.set(`${status.segmentId}|${partition}`, status);
    for (const segmentId of removed) this.statuses.delete(`${segmentId}|${partition}`);
    this.statusWrites += statuses.length + removed.length;
    return true;
  }

  async readMembers(segmentId: string, partition: number): Promise<string[]> {
    return Array.from(
      { length: MEMBER_BUCKETS },
      (_, bucket) => this.members.get(`${segmentId}|${partition}|${bucket}`) ?? [],
    )
      .flat()
      .sort();
  }

  async readPartitionStatuses(partition: number): Promise<PartitionStatus[]> {
    return [...this.statuses.values()].filter((status) => status.partition === partition);
  }

  async readStatuses(segmentId: string, partitions: readonly number[]): Promise<PartitionStatus[]> {
    return partitions.flatMap((partition) => {
      const status = this.statuses.get(`${segmentId}|${partition}`);
      return status === undefined ? [] : [status];
    });
  }
}
