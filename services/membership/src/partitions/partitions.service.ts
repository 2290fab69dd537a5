import { Inject, Injectable } from '@nestjs/common';
import type { ListMembershipChanged, ProfileChange } from '@shoal/contracts';
import { CLOCK, type Clock, LOGGER, partitionOf } from '@shoal/platform';
import type { Logger } from 'pino';
import {
  accountKey,
  chunkId,
  type HistoryEvent,
  type ProfileState,
} from '../evaluation/profile-state';
import type { SegmentCatalogue, SubjectKind } from '../evaluation/segment-catalogue';
import { SegmentDefinitionsService } from '../segments/segment-definitions.service';
import { MEMBERSHIP_EVENTS, type MembershipEvents } from './membership-events.port';
import { MEMBERSHIP_SETTINGS, type MembershipSettings } from './membership-settings';
import type { ContactMessage } from '../evaluation/contacts';
import { type InputRecord, PartitionRuntime, type RefreshJob } from './partition-runtime';
import {
  PARTITION_STORE,
  type PartitionStatus,
  type PartitionStore,
} from './partition-store.repository.port';

/** What the partitioned consumer offers the service: lanes, commits, and whether ownership is settled. */
export interface PartitionControl {
  inLane<T>(partition: number, task: () => Promise<T>): Promise<T>;
  commit(
    partition: number,
    next: { changes: number; lists: number; contacts: number },
  ): Promise<void>;
  /** False while the group rebalances: no timer or definition work may start then. */
  readonly settled: boolean;
}

/** How long refresh commands are remembered, so a partition loaded later can still run them. */
const JOBS_KEPT_MS = 7 * 86_400_000;

/**
 * The partitions this instance owns, and everything that reaches them: records (through the
 * consumer), timers and checkpoints (on intervals), definition changes, refresh commands and
 * merges. Reads for queries find a profile's partition here: in memory when owned, else in the
 * store.
 */
@Injectable()
export class PartitionsService {
  private readonly runtimes = new Map<number, PartitionRuntime>();
  private readonly jobs = new Map<string, RefreshJob>();
  private control?: PartitionControl;
  private count = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(PARTITION_STORE) private readonly store: PartitionStore,
    @Inject(MEMBERSHIP_EVENTS) private readonly events: MembershipEvents,
    @Inject(MEMBERSHIP_SETTINGS) private readonly settings: MembershipSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly definitions: SegmentDefinitionsService,
  ) {
    definitions.onCatalogue((catalogue) => this.onCatalogue(catalogue));
  }

  /** How many partitions the co-partitioned topics have. */
  get partitionCount(): number {
    return this.count;
  }

  get ownedPartitions(): number[] {
    return [...this.runtimes.keys()].sort((a, b) => a - b);
  }

  /** Starts the timer and checkpoint ticks; the consumer feeds records through `control`. */
  start(control: PartitionControl, partitionCount: number): void {
    this.control = control;
    this.count = partitionCount;
    this.timers = [
      setInterval(() => this.tick(), this.settings.timerTickMs),
      setInterval(() => this.checkpointAll(), this.settings.checkpointIntervalMs),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /** Stops ticking and takes a last checkpoint of every partition (the consumer is paused). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.all(
      [...this.runtimes.values()].map(async (runtime) => {
        await runtime.checkpoint();
        await runtime.flushed();
      }),
    );
  }

  // ---- ownership and records -----------------------------------------------------------------

  /** Loads newly owned partitions: claims, states, the published ledger, input ends, catalogue. */
  async assign(partitions: readonly number[]): Promise<void> {
    const documents = await Promise.all(
      partitions.map((partition) => this.store.claim(partition, this.now())),
    );
    const published = await this.events.readPublished(
      new Map(documents.map((document) => [document.partition, document.outputOffset])),
    );
    await Promise.all(
      documents.map(async (document) => {
        const { partition } = document;
        const states: ProfileState[] = [];
        for await (const state of this.store.loadStates(partition)) states.push(state);
        const runtime = new PartitionRuntime(
          partition,
          this.count,
          document,
          this.definitions.current,
          {
            store: this.store,
            events: this.events,
            clock: this.clock,
            logger: this.logger.child({ partition }),
            settings: this.settings,
            inLane: (task) => this.lane(partition, task),
            commit: (next) => this.control?.commit(partition, next) ?? Promise.resolve(),
            ghostHistory: (absorbedId, survivorId) => this.ghostHistory(absorbedId, survivorId),
          },
        );
        await runtime.load({
          states,
          published: published.get(partition) ?? [],
          statuses: await this.store.readPartitionStatuses(partition),
          inputEnds: await this.events.inputEnds(partition),
          catalogue: this.definitions.current,
        });
        this.runtimes.set(partition, runtime);
        this.logger.info(
          { partition, profiles: states.length, epoch: document.epoch },
          'partition loaded',
        );
        // a definition that arrived while the partition loaded found no runtime to tell: once
        // loaded (and unless revoked meanwhile), the partition catches up with the catalogue
        this.inBackground(partition, 'applying definitions failed', async () => {
          if (this.runtimes.get(partition) === runtime)
            await runtime.applyCatalogue(this.definitions.current);
        });
        for (const job of this.jobs.values())
          this.inBackground(partition, 'refresh failed', () => runtime.refresh(job));
      }),
    );
  }

  async revoke(partitions: readonly number[]): Promise<void> {
    for (const partition of partitions) {
      this.runtimes.delete(partition);
      this.logger.info({ partition }, 'partition revoked');
    }
  }

  async processChanges(
    partition: number,
    records: readonly InputRecord<ProfileChange>[],
  ): Promise<void> {
    await this.runtime(partition)?.processChanges(records);
  }

  async processContacts(
    partition: number,
    records: readonly InputRecord<ContactMessage>[],
  ): Promise<void> {
    await this.runtime(partition)?.processContacts(records);
  }

  async processListChanges(
    partition: number,
    records: readonly InputRecord<ListMembershipChanged>[],
  ): Promise<void> {
    await this.runtime(partition)?.processListChanges(records);
  }

  // ---- commands ------------------------------------------------------------------------------

  /** A refresh command: every owned partition refreshes the segment. */
  refresh(job: Omit<RefreshJob, 'cancelled'>): void {
    if (this.jobs.has(job.jobId)) return;
    const known: RefreshJob = { ...job, cancelled: false };
    this.jobs.set(job.jobId, known);
    const cutoff = this.now() - JOBS_KEPT_MS;
    for (const [id, other] of this.jobs) if (other.requestedAt < cutoff) this.jobs.delete(id);
    for (const [partition, runtime] of this.runtimes)
      this.inBackground(partition, 'refresh failed', () => runtime.refresh(known));
  }

  /** A cancel command: running refreshes of the job stop between chunks. */
  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job !== undefined) job.cancelled = true;
  }

  // ---- reads ---------------------------------------------------------------------------------

  partitionOf(profileId: string): number {
    return partitionOf(profileId, this.count);
  }

  /** The working set of a partition this instance owns. */
  local(partition: number): PartitionRuntime | undefined {
    return this.runtimes.get(partition);
  }

  /**
   * A profile's (or an account's) state: from memory when owned, else from the store (up to one
   * checkpoint old). An account lives in the partition its account id hashes to.
   */
  async profileState(
    subjectId: string,
    kind: SubjectKind = 'profile',
  ): Promise<ProfileState | undefined> {
    const partition = this.partitionOf(subjectId);
    const key = kind === 'account' ? accountKey(subjectId) : subjectId;
    const runtime = this.runtimes.get(partition);
    const state = runtime
      ? runtime.ws.profiles.get(key)
      : await this.store.findState(partition, key);
    return state?.mergedInto === undefined ? state : undefined;
  }

  /** A segment's members in one partition, sorted. */
  async members(segmentId: string, partition: number): Promise<string[]> {
    const runtime = this.runtimes.get(partition);
    if (runtime === undefined) return this.store.readMembers(segmentId, partition);
    return [...(runtime.ws.membersOf(segmentId) ?? [])].sort();
  }

  /** A segment's status in every partition that reported it. */
  async statuses(segmentId: string): Promise<PartitionStatus[]> {
    const now = this.now();
    const local = [...this.runtimes.values()].flatMap((runtime) => {
      const status = runtime.statusOf(segmentId, now);
      return status === undefined ? [] : [status];
    });
    const remote = Array.from({ length: this.count }, (_, p) => p).filter(
      (p) => !this.runtimes.has(p),
    );
    const stored = remote.length === 0 ? [] : await this.store.readStatuses(segmentId, remote);
    return [...local, ...stored].sort((a, b) => a.partition - b.partition);
  }

  // ---- internals -----------------------------------------------------------------------------

  private runtime(partition: number): PartitionRuntime | undefined {
    const runtime = this.runtimes.get(partition);
    if (runtime?.isFenced) {
      this.runtimes.delete(partition);
      return undefined;
    }
    return runtime;
  }

  private lane<T>(partition: number, task: () => Promise<T>): Promise<T> {
    if (this.control === undefined) throw new Error('partitions are not started');
    return this.control.inLane(partition, task);
  }

  private onCatalogue(catalogue: SegmentCatalogue): void {
    for (const [partition, runtime] of this.runtimes) {
      this.inBackground(partition, 'applying definitions failed', () =>
        runtime.applyCatalogue(catalogue),
      );
    }
  }

  private tick(): void {
    if (!this.control?.settled) return;
    const now = this.now();
    for (const [partition, runtime] of this.runtimes) {
      if (!runtime.wantsTick(now)) continue;
      runtime.markTickQueued();
      this.inBackground(partition, 'timer tick failed', () => runtime.tick());
    }
  }

  private checkpointAll(): void {
    for (const [partition, runtime] of this.runtimes) {
      void runtime
        .checkpoint()
        .catch((error: unknown) =>
          this.logger.error({ err: error, partition }, 'checkpoint failed'),
        );
    }
  }

  /** Queues work in a partition's lane that no caller waits for; its failure is logged. */
  private inBackground(partition: number, failure: string, task: () => Promise<void>): void {
    void this.lane(partition, task).catch((error: unknown) =>
      this.logger.error({ err: error, partition }, failure),
    );
  }

  /** A profile's whole retained event history: its sealed chunks (store or memory) and its tail. */
  async historyOf(profile: ProfileState): Promise<HistoryEvent[] | undefined> {
    const partition = this.partitionOf(profile.id);
    const runtime = this.runtimes.get(partition);
    const ids = profile.chunks.map((ref) => chunkId(profile.id, profile.incarnation, ref.n));
    const pending = ids.flatMap((id) => {
      const chunk = runtime?.ws.pendingChunk(id);
      return chunk === undefined ? [] : [chunk];
    });
    const stored = await this.store.findChunks(
      partition,
      ids.filter((id) => !pending.some((chunk) => chunk.id === id)),
    );
    const chunks = [...pending, ...stored].sort((a, b) => a.n - b.n);
    if (chunks.length !== ids.length) return undefined;
    return [...chunks.flatMap((chunk) => chunk.events), ...profile.tail];
  }

  /** The history of an absorbed profile once its partition has made it a ghost of `survivorId`. */
  private async ghostHistory(
    absorbedId: string,
    survivorId: string,
  ): Promise<HistoryEvent[] | undefined> {
    const partition = this.partitionOf(absorbedId);
    const runtime = this.runtimes.get(partition);
    const ghost = runtime
      ? runtime.ws.profiles.get(absorbedId)
      : await this.store.findState(partition, absorbedId);
    if (ghost?.mergedInto !== survivorId) return undefined;
    return this.historyOf(ghost);
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
