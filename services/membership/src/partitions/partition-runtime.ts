import {
  RefreshState,
  TransitionCause,
  SegmentState,
  type ListMembershipChanged,
  type ProfileChange,
} from '@shoal/contracts';
import type { Clock } from '@shoal/platform';
import { RuleError } from '@shoal/rules';
import type { Logger } from 'pino';
import type { ContactMessage, ContactOutput } from '../evaluation/contacts';
import type { HistoryEvent, ProfileState } from '../evaluation/profile-state';
import {
  type CatalogueSegment,
  type SegmentCatalogue,
  ruleChangeJobId,
  ruleChangesOf,
} from '../evaluation/segment-catalogue';
import type { PublishedTransition, Transition } from '../evaluation/transition';
import { DEFAULT_WORKING_SET_OPTIONS, PartitionWorkingSet } from '../evaluation/working-set';
import type { MembershipEvents, RefreshReport } from './membership-events.port';
import type { MembershipSettings } from './membership-settings';
import type {
  CheckpointWrite,
  PartitionDocument,
  PartitionStatus,
  PartitionStore,
} from './partition-store.repository.port';
import { StatusPublication, statusText } from './status-publication';

/** One input record, decoded; `reject` dead-letters it (it can never be processed). */
export interface InputRecord<T> {
  readonly offset: number;
  /** The record's Kafka timestamp (ms). */
  readonly timestamp: number;
  readonly value: T;
  reject(reason: string, error: string): void;
}

/** A refresh job as the commands topic asked for it. */
export interface RefreshJob {
  readonly jobId: string;
  readonly segmentId: string;
  /** When the command was published (ms): jobs older than a partition's checkpoint history are not run there. */
  readonly requestedAt: number;
  /** Not started by then (ms), it is not started at all: its requester has given up on it. */
  readonly startBefore?: number;
  cancelled: boolean;
}

/** What a partition runtime needs from around it. */
export interface RuntimeDeps {
  readonly store: PartitionStore;
  readonly events: MembershipEvents;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: MembershipSettings;
  /** Queues a task in the partition's lane. */
  readonly inLane: <T>(task: () => Promise<T>) => Promise<T>;
  /** Commits the next offsets to read of the partition's input topics. */
  readonly commit: (next: { changes: number; lists: number; contacts: number }) => Promise<void>;
  /** An absorbed profile's history, once its partition has made it a ghost of `survivorId`. */
  readonly ghostHistory: (
    absorbedId: string,
    survivorId: string,
  ) => Promise<HistoryEvent[] | undefined>;
}

const REFRESH_CHUNK = 1_000;
/** Records applied between yields to the event loop. */
const RECORDS_PER_STEP = 200;
/** Profiles whose due timers one step fires (the rest fire at the next tick). */
const TIMERS_PER_STEP = 2_000;
const PROGRESS_INTERVAL_MS = 1_000;
const MERGE_RETRY_MS = 2_000;
const UNKNOWN_SEGMENT_PATIENCE_MS = 60_000;
const FINISHED_JOBS_KEPT_MS = 8 * 86_400_000;
const HISTORY_SWEEP_MS = 3_600_000;

/**
 * One owned partition at run time: its working set, fed by the partition's records, timers,
 * definition changes, refreshes and merges (each run in the partition's lane by the caller),
 * and its checkpoints. Everything it decides is published before the checkpoint that records it.
 */
export class PartitionRuntime {
  readonly ws: PartitionWorkingSet;
  private document: PartitionDocument;
  private readonly processed: { changes: number; lists: number; contacts: number };
  /** The input ends at load: once passed, the replay has caught up and the ledger is settled. */
  private catchUp?: { changes: number; lists: number; contacts: number };
  private unpublished: Transition[] = [];
  private unpublishedContacts: ContactOutput[] = [];
  private writing?: Promise<void>;
  private fenced = false;
  private lagMs = 0;
  private readonly computing = new Set<string>();
  /** Per segment, the last status published (its stable fields, as JSON). */
  private readonly published = new Map<string, string>();
  /** Segments whose status may differ from the one published: only these are built again. */
  private readonly dueStatuses = new Set<string>();
  /** The catalogue the last statuses were built from (a new one has every status built). */
  private statusCatalogue?: SegmentCatalogue;
  private statusWaitingForContacts = false;
  private lastStatusAt = 0;
  private lastSweepAt = 0;
  private readonly mergeAttempts = new Map<string, number>();
  private readonly waitingJobs = new Map<string, RefreshJob>();
  private readonly runningJobs = new Set<string>();
  private tickQueued = false;
  /** The catalogue object last applied (catalogues are immutable, so identity says it all). */
  private appliedCatalogue?: SegmentCatalogue;
  private readonly statusPublication: StatusPublication;

  constructor(
    readonly partition: number,
    readonly partitionCount: number,
    document: PartitionDocument,
    catalogue: SegmentCatalogue,
    private readonly deps: RuntimeDeps,
  ) {
    this.document = document;
    this.processed = { contacts: -1, ...document.offsets };
    this.ws = new PartitionWorkingSet({
      catalogue,
      options: {
        ...DEFAULT_WORKING_SET_OPTIONS,
        historyRetentionMs: deps.settings.historyRetentionMs,
        hotProfiles: deps.settings.liveProfiles,
      },
    });
    this.statusPublication = new StatusPublication({
      partition,
      epoch: () => this.document.epoch,
      events: deps.events,
      store: deps.store,
      logger: deps.logger,
      clock: () => this.now(),
      onFenced: () => this.fence(),
    });
  }

  /** Whether a newer owner took the partition (this runtime must stop). */
  get isFenced(): boolean {
    return this.fenced;
  }

  get lag(): number {
    return this.lagMs;
  }

  /**
   * Installs the checkpointed states, the transitions published after the checkpoint (the
   * ledger) and the input ends to catch up to, then applies the current catalogue.
   */
  async load({
    states,
    published,
    statuses,
    inputEnds,
    catalogue,
  }: {
    states: readonly ProfileState[];
    published: readonly PublishedTransition[];
    /** The partition's statuses as its earlier owners stored them. */
    statuses: readonly PartitionStatus[];
    inputEnds: { changes: number; lists: number; contacts: number };
    catalogue: SegmentCatalogue;
  }): Promise<void> {
    this.seedStatuses(statuses);
    this.ws.load(states, this.document.applied, this.document.contacts);
    this.ws.reconcileBuckets(this.document.digests);
    this.ws.installLedger(published);
    this.catchUp = inputEnds;
    await this.applyCatalogue(catalogue);
    await this.publish(this.settleIfCaughtUp(this.now()));
  }

  // ---- records -------------------------------------------------------------------------------

  async processChanges(records: readonly InputRecord<ProfileChange>[]): Promise<void> {
    await this.process(records, 'changes', (value, offset, now) =>
      this.ws.applyProfileChange({ change: value, offset, now }),
    );
  }

  async processListChanges(records: readonly InputRecord<ListMembershipChanged>[]): Promise<void> {
    await this.process(records, 'lists', (value, offset, now) =>
      this.ws.applyListChange({ change: value, offset, now }),
    );
  }

  /** Contact records and markers: each slice is applied together (accounts evaluated once). */
  async processContacts(records: readonly InputRecord<ContactMessage>[]): Promise<void> {
    await this.publish([]);
    if (this.ws.dirtyCount >= this.deps.settings.maxDirtyProfiles) await this.checkpointNow();
    const now = this.now();
    const out = this.ws.fireTimers(now, TIMERS_PER_STEP);
    for (let start = 0; start < records.length; start += RECORDS_PER_STEP) {
      const slice = records.slice(start, start + RECORDS_PER_STEP);
      out.push(
        ...this.ws.applyContactMessages({
          messages: slice.map((record) => ({ offset: record.offset, message: record.value })),
          now,
        }),
      );
      for (const record of slice) {
        this.processed.contacts = Math.max(this.processed.contacts, record.offset);
        this.lagMs = Math.max(0, now - record.timestamp);
      }
      out.push(...this.settleIfCaughtUp(now));
      await this.publish(out.splice(0));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.publish(out);
  }

  private async process<T>(
    records: readonly InputRecord<T>[],
    topic: 'changes' | 'lists',
    apply: (value: T, offset: number, now: number) => Transition[],
  ): Promise<void> {
    await this.publish([]);
    if (this.ws.dirtyCount >= this.deps.settings.maxDirtyProfiles) await this.checkpointNow();
    const now = this.now();
    const out = this.ws.fireTimers(now, TIMERS_PER_STEP);
    // a batch is applied a slice at a time, publishing in between, so the event loop (gRPC
    // calls, heartbeats) is never held for long
    for (let start = 0; start < records.length; start += RECORDS_PER_STEP) {
      for (const record of records.slice(start, start + RECORDS_PER_STEP)) {
        try {
          out.push(...apply(record.value, record.offset, now));
        } catch (error) {
          if (!(error instanceof RuleError)) throw error;
          record.reject('INVALID_EVENT', error.message);
        }
        this.processed[topic] = Math.max(this.processed[topic], record.offset);
        this.lagMs = Math.max(0, now - record.timestamp);
      }
      out.push(...this.settleIfCaughtUp(now));
      await this.publish(out.splice(0));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.publish(out);
  }

  // ---- timers, merges, sweeps ----------------------------------------------------------------

  /** Whether a tick has something to do now. */
  wantsTick(now: number): boolean {
    if (this.tickQueued || this.fenced) return false;
    const due = this.ws.nextTimerAt;
    return (
      (due !== undefined && due <= now) ||
      this.ws
        .pendingMerges()
        .some((merge) => (this.mergeAttempts.get(merge.absorbedId) ?? 0) + MERGE_RETRY_MS <= now) ||
      this.waitingJobs.size > 0 ||
      (this.deps.settings.historyRetentionMs > 0 && this.lastSweepAt + HISTORY_SWEEP_MS <= now)
    );
  }

  markTickQueued(): void {
    this.tickQueued = true;
  }

  /** Fires due timers, carries over ready merges, retries waiting jobs, sweeps old history. */
  async tick(): Promise<void> {
    this.tickQueued = false;
    const now = this.now();
    const out = this.ws.fireTimers(now, TIMERS_PER_STEP);
    for (const { survivorId, absorbedId } of this.ws.pendingMerges()) {
      if ((this.mergeAttempts.get(absorbedId) ?? 0) + MERGE_RETRY_MS > now) continue;
      this.mergeAttempts.set(absorbedId, now);
      const events = await this.deps.ghostHistory(absorbedId, survivorId);
      if (events === undefined) continue;
      this.mergeAttempts.delete(absorbedId);
      out.push(...this.ws.absorb({ survivorId, absorbedId, events, now: this.now() }));
    }
    if (this.deps.settings.historyRetentionMs > 0 && this.lastSweepAt + HISTORY_SWEEP_MS <= now) {
      this.lastSweepAt = now;
      this.ws.sweepHistory(now);
    }
    await this.publish(out);
    for (const job of [...this.waitingJobs.values()]) await this.refresh(job);
  }

  // ---- definitions ---------------------------------------------------------------------------

  /**
   * Moves the working set to a catalogue: specs it lacks are rebuilt from history first (a
   * full read of the partition's history; the partition's status is COMPUTING meanwhile).
   */
  async applyCatalogue(catalogue: SegmentCatalogue): Promise<void> {
    if (this.appliedCatalogue === catalogue) return;
    const now = this.now();
    const applied = this.ws.appliedCatalogue.versions;
    const changed = [...catalogue.segments.values()]
      .filter((segment) => applied[segment.id] !== segment.version)
      .map((segment) => segment.id);
    const needed = this.ws.specsNeedingBackfill(catalogue);
    const ruleChanges = ruleChangesOf({
      previous: this.ws.currentCatalogue,
      applied: this.ws.appliedCatalogue,
      next: catalogue,
    });
    const startedAt = this.now();
    const total = this.ws.profileIds().length;
    await this.reportRuleChanges(ruleChanges, startedAt, total, undefined);
    for (const id of changed) this.computing.add(id);
    if (needed.length > 0 && total > 0) {
      // consumers see the segments as computing while the backfill runs, which never waits for
      // them to be published (with thousands of segments that takes longer than the backfill);
      // a partition holding nobody has nothing to compute
      const { statuses, removed } = this.statusesToPublish(now, true);
      this.statusPublication.add(statuses, removed);
      this.statusPublication.start();
    }
    if (needed.length > 0) await this.writing;
    let backfill;
    if (needed.length > 0) {
      backfill = this.ws.startBackfill(needed);
      for await (const chunk of this.deps.store.streamChunks(this.partition))
        backfill.addChunk(chunk);
    }
    const out = this.ws.setCatalogue({ catalogue, now: this.now(), backfill });
    const refreshedAt = { ...this.document.refreshedAt };
    for (const id of changed) refreshedAt[id] = this.now();
    this.document = { ...this.document, refreshedAt: pick(refreshedAt, catalogue) };
    this.computing.clear();
    for (const id of changed) this.dueStatuses.add(id);
    this.appliedCatalogue = catalogue;
    this.deps.logger.info(
      {
        partition: this.partition,
        // a bounded line, also when thousands of segments are defined at once
        changed: Object.fromEntries(
          changed.slice(0, 20).map((id) => [id, catalogue.get(id)?.version]),
        ),
        changedCount: changed.length,
        backfilledSpecs: needed.length,
        transitions: out.length,
      },
      'definitions applied',
    );
    await this.publish(out);
    await this.reportRuleChanges(ruleChanges, startedAt, total, out);
    for (const job of [...this.waitingJobs.values()]) await this.refresh(job);
  }

  /**
   * Reports the re-evaluation of segments whose rule changed as jobs (`<segment>@v<version>`):
   * RUNNING before it, SUCCEEDED with the transitions it made after (`done`). A report that
   * cannot be published is logged: the catalogue is applied all the same.
   */
  private async reportRuleChanges(
    segments: readonly CatalogueSegment[],
    startedAt: number,
    total: number,
    done: readonly Transition[] | undefined,
  ): Promise<void> {
    if (segments.length === 0) return;
    const count = (segmentId: string, kind: Transition['kind']) =>
      (done ?? []).filter(
        (t) =>
          t.segmentId === segmentId && t.kind === kind && t.cause === TransitionCause.RULE_CHANGE,
      ).length;
    try {
      await this.deps.events.publishProgress(
        segments.map((segment) => ({
          jobId: ruleChangeJobId(segment.id, segment.version),
          segmentId: segment.id,
          segmentVersion: segment.version,
          partition: this.partition,
          partitionCount: this.partitionCount,
          state: done === undefined ? RefreshState.RUNNING : RefreshState.SUCCEEDED,
          processed: done === undefined ? 0 : total,
          total,
          entered: count(segment.id, 'entered'),
          exited: count(segment.id, 'exited'),
          detail: '',
          startedAt,
          reportedAt: this.now(),
          ruleChange: true,
        })),
      );
    } catch (error) {
      this.deps.logger.warn(
        { err: error, partition: this.partition, segments: segments.map((s) => s.id) },
        'could not report a rule change',
      );
    }
  }

  // ---- refresh jobs --------------------------------------------------------------------------

  /** Starts a refresh job here (its chunks run as separate lane tasks), unless it ran already. */
  async refresh(job: RefreshJob): Promise<void> {
    const { document } = this;
    if (
      this.fenced ||
      job.jobId in document.finishedJobs ||
      job.requestedAt < document.createdAt ||
      this.runningJobs.has(job.jobId)
    ) {
      this.waitingJobs.delete(job.jobId);
      return;
    }
    const catalogue = this.ws.currentCatalogue;
    const segment = catalogue.get(job.segmentId);
    const startedAt = this.now();
    const report = (state: RefreshState, detail: string, extra: Partial<RefreshReport> = {}) =>
      this.deps.events.publishProgress([
        {
          jobId: job.jobId,
          segmentId: job.segmentId,
          segmentVersion: segment?.version ?? 0,
          partition: this.partition,
          partitionCount: this.partitionCount,
          state,
          processed: 0,
          total: 0,
          entered: 0,
          exited: 0,
          detail,
          startedAt,
          reportedAt: this.now(),
          ...extra,
        },
      ]);
    if (job.startBefore !== undefined && startedAt > job.startBefore) {
      this.waitingJobs.delete(job.jobId);
      this.finish(job.jobId);
      await report(
        RefreshState.CANCELLED,
        `expired: not started by ${new Date(job.startBefore).toISOString()}, when its requester gave up on it`,
      );
      return;
    }
    if (segment === undefined) {
      const failed = catalogue.failed.get(job.segmentId);
      if (failed === undefined && startedAt - job.requestedAt < UNKNOWN_SEGMENT_PATIENCE_MS) {
        // the definition may still be on its way
        this.waitingJobs.set(job.jobId, job);
        return;
      }
      this.waitingJobs.delete(job.jobId);
      this.finish(job.jobId);
      const listed = catalogue.lists.has(job.segmentId);
      await report(
        listed ? RefreshState.SKIPPED : RefreshState.FAILED,
        failed?.reason ??
          (listed ? 'a static list has nothing to compute' : `segment ${job.segmentId} is unknown`),
      );
      return;
    }
    this.waitingJobs.delete(job.jobId);
    if (!segment.active) {
      this.finish(job.jobId);
      await report(RefreshState.SKIPPED, 'the segment is inactive');
      return;
    }
    this.runningJobs.add(job.jobId);
    const ids = this.ws.profileIds();
    const progress = { processed: 0, total: ids.length, entered: 0, exited: 0 };
    await report(RefreshState.RUNNING, '', progress);
    let lastReport = this.now();
    const step = async (from: number): Promise<void> => {
      if (this.fenced) {
        this.runningJobs.delete(job.jobId);
        return;
      }
      if (job.cancelled) {
        this.runningJobs.delete(job.jobId);
        this.finish(job.jobId);
        return report(RefreshState.CANCELLED, 'cancelled', progress);
      }
      const chunk = ids.slice(from, from + REFRESH_CHUNK);
      const outcome = this.ws.refresh({
        segmentId: job.segmentId,
        now: this.now(),
        profileIds: chunk,
      });
      await this.publish(outcome.transitions);
      progress.processed += chunk.length;
      progress.entered += outcome.entered;
      progress.exited += outcome.exited;
      if (from + REFRESH_CHUNK < ids.length) {
        if (this.now() - lastReport >= PROGRESS_INTERVAL_MS) {
          lastReport = this.now();
          await report(RefreshState.RUNNING, '', progress);
        }
        void this.deps
          .inLane(() => step(from + REFRESH_CHUNK))
          .catch((error: unknown) =>
            this.deps.logger.error({ err: error, job: job.jobId }, 'refresh step failed'),
          );
        return;
      }
      this.runningJobs.delete(job.jobId);
      this.finish(job.jobId);
      this.document = {
        ...this.document,
        refreshedAt: { ...this.document.refreshedAt, [job.segmentId]: this.now() },
      };
      this.dueStatuses.add(job.segmentId);
      await report(RefreshState.SUCCEEDED, '', progress);
      this.deps.logger.info(
        {
          jobId: job.jobId,
          segmentId: job.segmentId,
          partition: this.partition,
          ...progress,
          waitedMs: startedAt - job.requestedAt,
          tookMs: this.now() - startedAt,
        },
        'refresh finished in the partition',
      );
    };
    await step(0);
  }

  private finish(jobId: string): void {
    const now = this.now();
    const finishedJobs: Record<string, number> = { [jobId]: now };
    for (const [id, at] of Object.entries(this.document.finishedJobs)) {
      if (at + FINISHED_JOBS_KEPT_MS > now) finishedJobs[id] = at;
    }
    this.document = { ...this.document, finishedJobs };
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  /**
   * Takes a checkpoint in the lane (a consistent snapshot) and writes it outside the lane, then
   * commits the offsets it covers. At most one write is in flight; a second call meanwhile waits.
   */
  async checkpoint(): Promise<void> {
    if (this.writing) return;
    await this.deps.inLane(() => this.checkpointNow());
  }

  /** In the lane: snapshot now and start writing (waiting first for a write still in flight). */
  async checkpointNow(): Promise<void> {
    await this.writing;
    if (this.fenced) return;
    const now = this.now();
    const snapshot = this.ws.takeCheckpoint();
    const { statuses, removed } = this.statusesToPublish(now, false);
    const document: PartitionDocument = {
      ...this.document,
      offsets: { ...this.processed },
      outputOffset: await this.deps.events.outputEnd(this.partition),
      applied: snapshot.applied,
      contacts: snapshot.contacts,
      digests: this.ws.digests(),
    };
    const write: CheckpointWrite = {
      chunks: snapshot.chunks,
      states: new Map(snapshot.states.map((state) => [state.id, JSON.stringify(state)])),
      deletedProfiles: snapshot.deletedProfiles,
      droppedChunks: snapshot.droppedChunks,
      buckets: snapshot.buckets,
      document,
    };
    this.document = document;
    this.writing = this.write(write, statuses, removed).finally(() => {
      this.writing = undefined;
    });
  }

  /** Waits for the checkpoint write in flight, if any, and the status publication it started. */
  async flushed(): Promise<void> {
    await this.writing;
    await this.statusPublication.flushed();
  }

  /**
   * Writes a checkpoint and commits the offsets it covers, then starts publishing the statuses
   * taken with it (beside the next checkpoints: no commit waits for them).
   */
  private async write(
    write: CheckpointWrite,
    statuses: readonly PartitionStatus[],
    removed: readonly string[],
  ): Promise<void> {
    const began = this.now();
    for (let delay = 200; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        if (!(await this.deps.store.writeCheckpoint(this.partition, write))) {
          this.fence();
          return;
        }
        break;
      } catch (error) {
        this.deps.logger.warn(
          { err: error, partition: this.partition, retryInMs: delay },
          'checkpoint failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.fenced) return;
      }
    }
    const stored = this.now();
    try {
      await this.deps.commit({
        changes: write.document.offsets.changes + 1,
        lists: write.document.offsets.lists + 1,
        contacts: (write.document.offsets.contacts ?? -1) + 1,
      });
      this.deps.logger.debug(
        {
          states: write.states.size,
          chunks: write.chunks.length,
          buckets: write.buckets.length,
          storeMs: stored - began,
          commitMs: this.now() - stored,
          changes: write.document.offsets.changes,
        },
        'checkpoint written',
      );
    } catch (error) {
      // the checkpoint is durable; the next one commits its offsets
      this.deps.logger.warn({ err: error, partition: this.partition }, 'offset commit failed');
    }
    this.statusPublication.add(statuses, removed);
    this.statusPublication.start();
  }

  private fence(): void {
    if (this.fenced) return;
    this.fenced = true;
    this.deps.logger.warn(
      { partition: this.partition },
      'partition taken over by a newer owner; this instance stops working on it',
    );
  }

  // ---- status --------------------------------------------------------------------------------

  /** This partition's status of a segment membership knows (for queries and reports). */
  statusOf(segmentId: string, now: number): PartitionStatus | undefined {
    const catalogue = this.ws.currentCatalogue;
    const base = (valueTrait = '') => {
      const members = this.ws.membersOf(segmentId);
      return {
        segmentId,
        partition: this.partition,
        partitionCount: this.partitionCount,
        memberCount: members?.size ?? 0,
        valueTrait,
        ...(valueTrait === '' ? {} : { valueSum: members?.valueSum ?? 0 }),
        valuedMemberCount: valueTrait === '' ? 0 : (members?.valuedCount ?? 0),
        lastEvaluatedAt: this.ws.lastEvaluatedAt(segmentId),
        lastRefreshedAt: this.document.refreshedAt[segmentId],
        lagMs: this.lagMs,
        reportedAt: now,
      };
    };
    const segment = catalogue.segments.get(segmentId);
    if (segment !== undefined) {
      return {
        ...base(segment.valueTrait),
        version: segment.version,
        state:
          this.computing.has(segmentId) ||
          (this.ws.waitingForContacts && catalogue.contactBound.has(segmentId))
            ? SegmentState.COMPUTING
            : SegmentState.READY,
        lastError: '',
        notes:
          segment.allTime && this.deps.settings.historyRetentionMs > 0
            ? [
                `all-time conditions were backfilled from ${Math.round(this.deps.settings.historyRetentionMs / 86_400_000)} days of history`,
              ]
            : [],
      };
    }
    const failed = catalogue.failed.get(segmentId);
    if (failed === undefined) return undefined;
    return {
      ...base(),
      version: Number(failed.definition.version),
      state: SegmentState.FAILED,
      lastError: failed.reason,
      notes: [],
    };
  }

  /**
   * An earlier owner stored these statuses after publishing them: those this owner builds the
   * same are neither published nor stored again (with 10,000 segments a restart published and
   * stored 10,000 statuses per partition), and the first full publication is one status interval
   * away, as if this owner had made it. Without stored statuses (a first start), every status
   * goes out at the first checkpoint.
   */
  private seedStatuses(statuses: readonly PartitionStatus[]): void {
    if (statuses.length === 0) return;
    for (const status of statuses)
      this.published.set(status.segmentId, statusText(status, 'published'));
    this.statusPublication.seed(statuses);
    this.lastStatusAt = this.now();
  }

  /**
   * The statuses that changed since they were last published, and the segments that are gone.
   * Only segments something happened to are looked at (members or value sum moved, a refresh
   * finished, contacts settled); every segment is, with a new catalogue, and every status is
   * published again each status interval, so a consumer that missed one is never stale for long.
   */
  private statusesToPublish(
    now: number,
    force: boolean,
  ): { statuses: PartitionStatus[]; removed: string[] } {
    const catalogue = this.ws.currentCatalogue;
    for (const id of this.ws.takeChangedSegments()) this.dueStatuses.add(id);
    const waiting = this.ws.waitingForContacts;
    if (waiting !== this.statusWaitingForContacts) {
      this.statusWaitingForContacts = waiting;
      for (const id of catalogue.contactBound) this.dueStatuses.add(id);
    }
    const periodic = force || now - this.lastStatusAt >= this.deps.settings.statusIntervalMs;
    if (periodic) this.lastStatusAt = now;
    if (periodic || catalogue !== this.statusCatalogue) {
      this.statusCatalogue = catalogue;
      for (const id of this.published.keys()) this.dueStatuses.add(id);
      for (const id of catalogue.segments.keys()) this.dueStatuses.add(id);
      for (const id of catalogue.failed.keys()) this.dueStatuses.add(id);
    }
    const statuses: PartitionStatus[] = [];
    const removed: string[] = [];
    for (const segmentId of this.dueStatuses) {
      const status = this.statusOf(segmentId, now);
      if (status === undefined) {
        if (this.published.delete(segmentId)) removed.push(segmentId);
        continue;
      }
      const text = statusText(status, 'published');
      if (this.published.get(segmentId) === text && !periodic) continue;
      this.published.set(segmentId, text);
      statuses.push(status);
    }
    this.dueStatuses.clear();
    return { statuses, removed };
  }

  // ---- helpers -------------------------------------------------------------------------------

  private settleIfCaughtUp(now: number): Transition[] {
    const target = this.catchUp;
    if (
      target === undefined ||
      this.processed.changes < target.changes ||
      this.processed.lists < target.lists ||
      this.processed.contacts < target.contacts
    )
      return [];
    this.catchUp = undefined;
    return this.ws.settleLedger(now);
  }

  /**
   * Publishes contact records and transitions (after any an earlier attempt could not publish),
   * in order: both before the checkpoint covering the input that caused them.
   */
  private async publish(transitions: readonly Transition[]): Promise<void> {
    this.unpublishedContacts.push(...this.ws.takeContactOutput());
    if (this.unpublishedContacts.length > 0) {
      const contacts = this.unpublishedContacts;
      await this.deps.events.publishContacts(contacts, {
        partition: this.partition,
        partitionCount: this.partitionCount,
      });
      this.unpublishedContacts = this.unpublishedContacts.slice(contacts.length);
    }
    this.unpublished.push(...transitions);
    if (this.unpublished.length === 0) return;
    const batch = this.unpublished;
    await this.deps.events.publishTransitions(batch);
    this.unpublished = this.unpublished.slice(batch.length);
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }
}

function pick(
  refreshedAt: Record<string, number>,
  catalogue: SegmentCatalogue,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, at] of Object.entries(refreshedAt)) if (catalogue.get(id)) out[id] = at;
  return out;
}
