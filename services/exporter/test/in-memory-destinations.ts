import { timestampDate } from '@bufbuild/protobuf/wkt';
import { type DeadLetter, type Destination, type SyncRun, SyncRunKind } from '@shoal/contracts';
import { subjectsOf } from '../src/destinations/dead-letter-payload';
import type {
  DestinationRepositoryPort,
  ErasureRepositoryPort,
  LinkState,
  LinkStateRepositoryPort,
  QueuePosition,
  QueuedRecord,
  RefreshJobRepositoryPort,
  StoredDeadLetter,
  SyncQueuePort,
  SyncRunRepositoryPort,
} from '../src/destinations/destinations.repository.port';

/** Destinations in memory, for unit tests of the services. */
export class InMemoryDestinations implements DestinationRepositoryPort {
  readonly stored = new Map<string, Destination>();

  async insert(destination: Destination) {
    this.stored.set(destination.id, destination);
  }
  async get(id: string) {
    return this.stored.get(id);
  }
  async list(owner: string | undefined, limit: number) {
    return [...this.stored.values()]
      .filter((d) => owner === undefined || d.owner === owner)
      .slice(0, limit);
  }
  async replace(destination: Destination, expectedVersion: bigint) {
    if (this.stored.get(destination.id)?.version !== expectedVersion) return false;
    this.stored.set(destination.id, destination);
    return true;
  }
  async remove(id: string) {
    this.stored.delete(id);
  }
}

export class InMemorySyncQueue implements SyncQueuePort {
  readonly queued = new Map<string, QueuedRecord>();

  async enqueue(records: readonly QueuedRecord[]) {
    const added: QueuedRecord[] = [];
    for (const r of records)
      if (!this.queued.has(r.id)) {
        this.queued.set(r.id, r);
        added.push(r);
      }
    return added;
  }
  async pending(destinationId: string, segmentId: string, limit: number) {
    return [...this.queued.values()]
      .filter((r) => r.destinationId === destinationId && r.segmentId === segmentId)
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
      .slice(0, limit);
  }
  async remove(ids: readonly string[]) {
    for (const id of ids) this.queued.delete(id);
  }
  async clear(destinationId: string, segmentId?: string) {
    for (const [id, r] of this.queued)
      if (r.destinationId === destinationId && (!segmentId || r.segmentId === segmentId))
        this.queued.delete(id);
  }
}

export class InMemorySyncRuns implements SyncRunRepositoryPort {
  readonly saved = new Map<string, SyncRun>();
  /** Oldest first. */
  readonly letters: DeadLetter[] = [];
  readonly positions = new Map<string, readonly QueuePosition[]>();
  readonly revisions = new Map<string, number>();

  async save(run: SyncRun) {
    this.saved.set(run.id, { ...run });
  }
  async runs(destinationId: string, limit: number) {
    return [...this.saved.values()]
      .filter((r) => r.destinationId === destinationId)
      .slice(0, limit);
  }
  async deadLetter(letter: DeadLetter, positions: readonly QueuePosition[] = []) {
    const at = this.letters.findIndex((l) => l.id === letter.id);
    if (at >= 0) this.letters.splice(at, 1);
    this.letters.push(letter);
    this.positions.set(letter.id, positions);
    this.revisions.set(letter.id, 0);
  }
  async deadLetters(destinationId: string, limit: number) {
    return this.letters
      .filter((l) => l.destinationId === destinationId)
      .reverse()
      .slice(0, limit);
  }
  async deadLettersById(destinationId: string, ids: readonly string[]) {
    return ids.flatMap((id) => {
      const letter = this.letters.find((l) => l.id === id && l.destinationId === destinationId);
      return letter ? [this.stored(letter)] : [];
    });
  }
  async incrementalDeadLetters(
    destinationId: string,
    segmentIds: readonly string[],
    limit: number,
  ) {
    return this.incremental(destinationId, segmentIds)
      .slice(0, limit)
      .map((l) => this.stored(l));
  }
  async countIncrementalDeadLetters(destinationId: string, segmentIds: readonly string[]) {
    return this.incremental(destinationId, segmentIds).length;
  }
  async removeDeadLetters(ids: readonly string[]) {
    for (const id of ids) {
      const at = this.letters.findIndex((l) => l.id === id);
      if (at >= 0) this.letters.splice(at, 1);
      this.positions.delete(id);
    }
  }
  async deadLettersOfProfiles(profileIds: readonly string[]) {
    return this.letters
      .filter((l) => subjectsOf(l.payload).some((id) => profileIds.includes(id)))
      .map((l) => this.stored(l));
  }
  async rewriteDeadLetter({ letter, positions, revision = 0 }: StoredDeadLetter) {
    const at = this.letters.findIndex((l) => l.id === letter.id);
    if (at < 0 || this.revisions.get(letter.id) !== revision) return false;
    this.letters[at] = letter;
    this.positions.set(letter.id, positions);
    this.revisions.set(letter.id, revision + 1);
    return true;
  }
  /** Oldest first, as the store sorts them (ties in the order written). */
  private incremental(destinationId: string, segmentIds: readonly string[]) {
    const at = (l: DeadLetter) =>
      l.deadLetteredAt ? timestampDate(l.deadLetteredAt).getTime() : 0;
    return this.letters
      .filter(
        (l) =>
          l.destinationId === destinationId &&
          l.runKind === SyncRunKind.INCREMENTAL &&
          segmentIds.includes(l.segmentId),
      )
      .sort((a, b) => at(a) - at(b));
  }
  private stored(letter: DeadLetter): StoredDeadLetter {
    return {
      letter,
      positions: this.positions.get(letter.id) ?? [],
      revision: this.revisions.get(letter.id) ?? 0,
    };
  }
}

export class InMemoryRefreshJobs implements RefreshJobRepositoryPort {
  private readonly jobs = new Map<string, { partitions: Set<number>; completed: boolean }>();

  async partitionSucceeded(job: { jobId: string; partition: number; partitionCount: number }) {
    const entry = this.jobs.get(job.jobId) ?? { partitions: new Set<number>(), completed: false };
    this.jobs.set(job.jobId, entry);
    entry.partitions.add(job.partition);
    if (entry.completed || entry.partitions.size < job.partitionCount) return false;
    entry.completed = true;
    return true;
  }
}

export class InMemoryLinkStates implements LinkStateRepositoryPort {
  readonly states = new Map<string, LinkState>();

  async get(destinationId: string, segmentId: string) {
    return this.states.get(`${destinationId}/${segmentId}`);
  }
  async delivered(
    destinationId: string,
    segmentId: string,
    last: { at: Date; eventId: string; sequence?: number; records: number },
  ) {
    const state = this.of(destinationId, segmentId);
    this.put({
      ...state,
      lastSyncedAt: last.at,
      lastSyncedEventId: last.eventId,
      lastSyncedSequence: last.sequence ?? state.lastSyncedSequence,
      recordsSynced: state.recordsSynced + last.records,
    });
  }
  async addBacklog(destinationId: string, segmentId: string, records: number) {
    const state = this.of(destinationId, segmentId);
    this.put({ ...state, pausedBacklog: state.pausedBacklog + records });
    return state.pausedBacklog + records;
  }
  async setFullSyncRequired(destinationId: string, segmentId: string, required: boolean) {
    const state = this.of(destinationId, segmentId);
    this.put({
      ...state,
      fullSyncRequired: required,
      pausedBacklog: required ? 0 : state.pausedBacklog,
    });
  }
  async resumed(destinationId: string, segmentId: string) {
    this.put({ ...this.of(destinationId, segmentId), pausedBacklog: 0 });
  }
  async claimScheduled(destinationId: string, segmentId: string, at: Date) {
    const state = this.of(destinationId, segmentId);
    if (state.lastScheduledAt && state.lastScheduledAt >= at) return false;
    this.put({ ...state, lastScheduledAt: at });
    return true;
  }
  async remove(destinationId: string, segmentId?: string) {
    for (const [key, state] of this.states)
      if (state.destinationId === destinationId && (!segmentId || state.segmentId === segmentId))
        this.states.delete(key);
  }
  async forgetProfiles(profileIds: readonly string[]) {
    for (const state of this.states.values())
      if (profileIds.some((id) => state.lastSyncedEventId.endsWith(`:${id}`)))
        this.put({ ...state, lastSyncedEventId: '' });
  }
  private of(destinationId: string, segmentId: string): LinkState {
    return (
      this.states.get(`${destinationId}/${segmentId}`) ?? {
        destinationId,
        segmentId,
        lastSyncedEventId: '',
        lastSyncedSequence: 0,
        recordsSynced: 0,
        pausedBacklog: 0,
        fullSyncRequired: false,
      }
    );
  }
  private put(state: LinkState) {
    this.states.set(`${state.destinationId}/${state.segmentId}`, state);
  }
}

export class InMemoryErasures implements ErasureRepositoryPort {
  readonly erased = new Map<string, Date>();

  async record(profileIds: readonly string[], at: Date) {
    for (const id of profileIds)
      if (!(this.erased.get(id) && this.erased.get(id)! >= at)) this.erased.set(id, at);
  }
  async erasedAt(profileIds: readonly string[]) {
    return new Map(
      profileIds.flatMap((id) => (this.erased.has(id) ? [[id, this.erased.get(id)!]] : [])),
    );
  }
}
