import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  DeadLetterSchema,
  type Destination,
  type DestinationLink,
  type MembershipTransition,
  type RefreshProgress,
  RefreshState,
  type SyncRun,
  SyncMode,
  SyncRunKind,
  SyncRunSchema,
  SyncRunStatus,
  TransitionKind,
} from '@shoal/contracts';
import { CLOCK, type Clock, LOGGER } from '@shoal/platform';
import type { Logger } from 'pino';
import {
  MEMBER_SOURCE,
  type MemberSource,
  PROFILE_SOURCE,
  type ProfileSource,
} from '../peers/peers.ports';
import { SegmentDefinitions } from '../segments/segment-definitions';
import { type DeliveryBatch, DeliveryFailure, type SyncRecord } from './destination-kind';
import { DESTINATION_KINDS, type DestinationKinds } from './destination-kinds';
import {
  DESTINATION_REPOSITORY,
  type DestinationRepositoryPort,
  LINK_STATE_REPOSITORY,
  type LinkStateRepositoryPort,
  type QueuePosition,
  type QueuedRecord,
  REFRESH_JOB_REPOSITORY,
  type RefreshJobRepositoryPort,
  SYNC_QUEUE,
  SYNC_RUN_REPOSITORY,
  type SyncQueuePort,
  type SyncRunRepositoryPort,
} from './destinations.repository.port';
import { ErasureService } from './erasure.service';
import { dueSlot } from './link-schedule';
import { withProfile } from './record-profile';
import { type RetrySchedule, delayBeforeRetry } from './retry-schedule';

/** How syncing runs: retry waits, and how long a partial batch may wait for more records. */
export interface SyncSettings {
  readonly retry: RetrySchedule;
  /** A batch smaller than the destination's batch size is sent once its oldest record is this old. */
  readonly maxBatchWaitMs: number;
  /** Most destinations read when routing transitions. */
  readonly maxDestinations: number;
  /**
   * Most records queued for one link while its auto-sync is off; beyond it the queue is dropped
   * and the link owes a full sync, run when auto-sync is switched on again.
   */
  readonly maxPausedBacklog: number;
}
export const SYNC_SETTINGS = Symbol('SyncSettings');

/** A transition as consumed, with where it was on the topic (its order). */
export interface ConsumedTransition {
  readonly transition: MembershipTransition;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Moves membership to destinations. Incremental links: transitions are queued per destination
 * in the store (durably, before the consumer commits), then each destination's queue is drained
 * on its own — batched by size and time, in order per profile, retried with backoff and jitter
 * within the destination's attempt budget, dead-lettered after it — so one failing destination
 * never holds up another. Every delivery is a recorded run.
 */
@Injectable()
export class SyncService {
  constructor(
    @Inject(DESTINATION_REPOSITORY) private readonly destinations: DestinationRepositoryPort,
    @Inject(SYNC_QUEUE) private readonly queue: SyncQueuePort,
    @Inject(SYNC_RUN_REPOSITORY) private readonly runs: SyncRunRepositoryPort,
    @Inject(REFRESH_JOB_REPOSITORY) private readonly refreshJobs: RefreshJobRepositoryPort,
    @Inject(LINK_STATE_REPOSITORY) private readonly states: LinkStateRepositoryPort,
    @Inject(DESTINATION_KINDS) private readonly kinds: DestinationKinds,
    @Inject(MEMBER_SOURCE) private readonly members: MemberSource,
    @Inject(PROFILE_SOURCE) private readonly profiles: ProfileSource,
    private readonly definitions: SegmentDefinitions,
    private readonly erasure: ErasureService,
    @Inject(SYNC_SETTINGS) private readonly settings: SyncSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Destinations whose queues the dispatcher drains. */
  all(): Promise<Destination[]> {
    return this.destinations.list(undefined, this.settings.maxDestinations);
  }

  /**
   * Queues each transition for every destination with an incremental link to its segment. A
   * link whose auto-sync is off keeps queuing (nothing is skipped while it is paused) up to
   * `maxPausedBacklog` records; past that its queue is dropped and it owes a full sync instead.
   */
  async enqueue(consumed: readonly ConsumedTransition[]): Promise<void> {
    if (consumed.length === 0) return;
    const routes = new Map<string, string[]>();
    const paused = new Set<string>();
    for (const destination of await this.all()) {
      for (const link of destination.links) {
        if (link.mode !== SyncMode.INCREMENTAL) continue;
        if (!link.autoSync) {
          const state = await this.states.get(destination.id, link.segmentId);
          if (state?.fullSyncRequired) continue;
          paused.add(linkKey(destination.id, link.segmentId));
        }
        routes.set(link.segmentId, [...(routes.get(link.segmentId) ?? []), destination.id]);
      }
    }
    const queuedAt = this.clock.now();
    const records: QueuedRecord[] = consumed.flatMap(({ transition, partition, offset }) =>
      (routes.get(transition.segmentId) ?? []).map((destinationId) => ({
        id: queuedRecordId(destinationId, transition.segmentId, transition.id),
        destinationId,
        segmentId: transition.segmentId,
        partition,
        offset,
        record: recordOf(transition),
        queuedAt,
      })),
    );
    const added = await this.queue.enqueue(records);
    await this.addToBacklogs(added, paused);
  }

  /**
   * Queues a link's records again (a dead letter redelivered), where they stood before; ones
   * still queued are not queued twice. A paused link counts them in its backlog, as `enqueue`
   * does.
   */
  async queueAgain(link: DestinationLink, records: readonly QueuedRecord[]): Promise<void> {
    const added = await this.queue.enqueue(records);
    const paused = new Set(
      link.autoSync ? [] : records.map((r) => linkKey(r.destinationId, r.segmentId)),
    );
    await this.addToBacklogs(added, paused);
  }

  /** Counts records newly queued for paused links; a backlog over its bound is dropped. */
  private async addToBacklogs(added: readonly QueuedRecord[], paused: ReadonlySet<string>) {
    const backlog = new Map<string, { destinationId: string; segmentId: string; size: number }>();
    for (const { destinationId, segmentId } of added) {
      const key = linkKey(destinationId, segmentId);
      if (!paused.has(key)) continue;
      const entry = backlog.get(key) ?? { destinationId, segmentId, size: 0 };
      backlog.set(key, { ...entry, size: entry.size + 1 });
    }
    for (const { destinationId, segmentId, size } of backlog.values()) {
      const total = await this.states.addBacklog(destinationId, segmentId, size);
      if (total <= this.settings.maxPausedBacklog) continue;
      // flagged first, so a restart between the two still owes the full sync
      await this.states.setFullSyncRequired(destinationId, segmentId, true);
      await this.queue.clear(destinationId, segmentId);
      this.logger.warn(
        { destinationId, segmentId, backlog: total },
        'paused link backlog over its bound; dropped, a full sync runs when auto-sync is on',
      );
    }
  }

  /**
   * Delivers what is queued for one destination's auto-syncing incremental links, batch by
   * batch, until the queues are empty (or hold only a young partial batch). A link that owes a
   * full sync (its paused backlog overflowed) gets it first.
   */
  async drain(destination: Destination, signal: AbortSignal): Promise<void> {
    const { kind, value } = this.kinds.of(destination.config);
    const batchSize = kind.batchSize(value as never);
    if (!kind.incremental) return;
    for (const link of destination.links) {
      if (!link.autoSync || link.mode !== SyncMode.INCREMENTAL) continue;
      const state = await this.states.get(destination.id, link.segmentId);
      if (state?.pausedBacklog) await this.states.resumed(destination.id, link.segmentId);
      if (state?.fullSyncRequired) {
        const run = this.newRun(destination.id, link.segmentId, SyncRunKind.FULL);
        await this.full(destination, link.segmentId, run, signal);
        if (signal.aborted) return;
        // a catch-up that failed has dead-lettered what it could not send, as batches do
        await this.states.setFullSyncRequired(destination.id, link.segmentId, false);
      }
      while (!signal.aborted) {
        const pending = await this.queue.pending(destination.id, link.segmentId, batchSize);
        if (pending.length === 0) break;
        const oldest = Math.min(...pending.map((p) => new Date(p.queuedAt).getTime()));
        const young = this.clock.now().getTime() - oldest < this.settings.maxBatchWaitMs;
        if (pending.length < batchSize && young) break;
        const run = this.newRun(destination.id, link.segmentId, SyncRunKind.INCREMENTAL);
        const records = await this.withProfiles(
          pending.map((p) => p.record),
          link.traits,
          signal,
        );
        const delivered = await this.deliver(destination, run, records, signal, {
          positions: pending.map(({ partition, offset }) => ({ partition, offset })),
        });
        if (!delivered && signal.aborted) return;
        await this.queue.remove(pending.map((p) => p.id));
      }
    }
  }

  /** Where each link of a destination stands. */
  async stateOf(destinationId: string, segmentId: string) {
    return this.states.get(destinationId, segmentId);
  }

  /**
   * A refresh job's partition finished; once all have, the destinations that sync the segment
   * in full with auto-sync on are due a full sync (answered once per job, replays included).
   */
  async dueAfterRefresh(progress: RefreshProgress): Promise<Destination[]> {
    if (progress.state !== RefreshState.SUCCEEDED || progress.partitionCount <= 0) return [];
    const complete = await this.refreshJobs.partitionSucceeded({
      jobId: progress.jobId,
      segmentId: progress.segmentId,
      partition: progress.partition,
      partitionCount: progress.partitionCount,
    });
    if (!complete) return [];
    return (await this.all()).filter((d) =>
      d.links.some(
        (l) => l.segmentId === progress.segmentId && l.autoSync && l.mode === SyncMode.FULL,
      ),
    );
  }

  /**
   * The segments of a destination whose full link's schedule is due now (auto-sync on): each
   * slot is claimed once, however many replicas or ticks look, and ticks missed while the
   * exporter was down make one run.
   */
  async dueScheduled(destination: Destination): Promise<string[]> {
    const now = this.clock.now();
    const due: string[] = [];
    for (const link of destination.links) {
      if (link.mode !== SyncMode.FULL || !link.autoSync || !link.schedule) continue;
      const state = await this.states.get(destination.id, link.segmentId);
      const after = state?.lastScheduledAt ?? (link.linkedAt ? timestampDate(link.linkedAt) : now);
      const slot = dueSlot({ cron: link.schedule, timeZone: link.timeZone }, after, now);
      if (slot && (await this.states.claimScheduled(destination.id, link.segmentId, slot)))
        due.push(link.segmentId);
    }
    return due;
  }

  /** Starts a full sync run of a linked segment: every current member, page by page. */
  startFull(
    destination: Destination,
    segmentId: string,
    signal: AbortSignal,
  ): { run: SyncRun; done: Promise<void> } {
    const run = this.newRun(destination.id, segmentId, SyncRunKind.FULL);
    return { run, done: this.full(destination, segmentId, run, signal) };
  }

  async runsOf(destinationId: string, limit: number) {
    return this.runs.runs(destinationId, limit);
  }

  async deadLettersOf(destinationId: string, limit: number) {
    return this.runs.deadLetters(destinationId, limit);
  }

  private async full(
    destination: Destination,
    segmentId: string,
    run: SyncRun,
    signal: AbortSignal,
  ): Promise<void> {
    const { kind, value } = this.kinds.of(destination.config);
    const batchSize = kind.batchSize(value as never);
    const traits = destination.links.find((l) => l.segmentId === segmentId)?.traits ?? [];
    await this.runs.save(run);
    const snapshot = kind.openSnapshot
      ? await kind.openSnapshot(value as never, {
          destinationId: destination.id,
          segmentId,
          runId: run.id,
        })
      : undefined;
    let failed = false;
    let written: SyncRecord | undefined;
    try {
      const segment = this.definitions.get(segmentId);
      if (!segment) throw new Error(`segment ${segmentId} is not known (deleted?)`);
      for await (const ids of this.members.pages(segment, batchSize, signal)) {
        const at = this.clock.now().toISOString();
        const records = await this.withProfiles(
          ids.map((profileId) => ({
            eventId: `${run.id}:${profileId}`,
            type: 'member' as const,
            segmentId,
            profileId,
            occurredAt: at,
          })),
          traits,
          signal,
        );
        if (snapshot) {
          await snapshot.write(records);
          run.records += BigInt(records.length);
          written = records.at(-1) ?? written;
        } else {
          failed =
            !(await this.deliver(destination, run, records, signal, { finishRun: false })) ||
            failed;
        }
      }
      if (snapshot) {
        await snapshot.commit();
        if (written) await this.synced(destination.id, segmentId, written, Number(run.records));
      }
    } catch (error) {
      failed = true;
      run.error = error instanceof Error ? error.message : String(error);
      await snapshot?.abort();
      this.logger.warn(
        { err: error, destinationId: destination.id, segmentId },
        'full sync failed',
      );
    }
    await this.finish(run, failed ? SyncRunStatus.FAILED : SyncRunStatus.SUCCEEDED);
  }

  /**
   * One batch to a destination within its attempt budget; true once delivered. Out of budget (or
   * refused for good), the batch becomes a dead letter, with where its records stood in the
   * queue (`positions`, incremental batches) so a redelivery puts them back there. `finishRun`
   * ends the run with the batch (incremental runs are one batch each).
   */
  private async deliver(
    destination: Destination,
    run: SyncRun,
    records: readonly SyncRecord[],
    signal: AbortSignal,
    { finishRun = true, positions = [] }: { finishRun?: boolean; positions?: QueuePosition[] } = {},
  ): Promise<boolean> {
    const { kind, value } = this.kinds.of(destination.config);
    const maxAttempts = kind.maxAttempts(value as never);
    const batch: DeliveryBatch = {
      destinationId: destination.id,
      segmentId: run.segmentId,
      runId: run.id,
      full: run.kind === SyncRunKind.FULL,
      records,
    };
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        await kind.deliver(value as never, batch, signal);
        run.records += BigInt(records.length);
        const last = records.at(-1);
        if (last) await this.synced(destination.id, run.segmentId, last, records.length);
        if (finishRun) await this.finish(run, SyncRunStatus.SUCCEEDED);
        return true;
      } catch (error) {
        if (signal.aborted) return false;
        run.failures += 1n;
        run.error = error instanceof Error ? error.message : String(error);
        const permanent = error instanceof DeliveryFailure && error.options.permanent === true;
        if (permanent || attempt >= maxAttempts) break;
        const retryAfter =
          error instanceof DeliveryFailure ? error.options.retryAfterMs : undefined;
        const wait = delayBeforeRetry(this.settings.retry, attempt, retryAfter);
        this.logger.warn(
          { destinationId: destination.id, runId: run.id, attempt, waitMs: wait, error: run.error },
          'delivery failed; retrying',
        );
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          return false;
        }
      }
    }
    const letter = create(DeadLetterSchema, {
      id: `${run.id}/${run.failures}`,
      destinationId: destination.id,
      runId: run.id,
      payload: JSON.stringify(records),
      records: BigInt(records.length),
      error: run.error,
      attempts: attempt,
      deadLetteredAt: timestampFromDate(this.clock.now()),
      segmentId: run.segmentId,
      runKind: run.kind,
    });
    // the records were read after the run started: what was erased since must not be kept
    await this.erasure.deadLetter(
      { letter, positions },
      run.startedAt ? timestampDate(run.startedAt) : this.clock.now(),
    );
    this.logger.error(
      { destinationId: destination.id, runId: run.id, attempts: attempt, error: run.error },
      'delivery gave up; batch dead-lettered',
    );
    if (finishRun) await this.finish(run, SyncRunStatus.FAILED);
    return false;
  }

  /** Records with their profiles' identities and the link's traits, one profile read per batch. */
  private async withProfiles(
    records: readonly SyncRecord[],
    traits: readonly string[],
    signal: AbortSignal,
  ): Promise<SyncRecord[]> {
    const ids = [...new Set(records.map((r) => r.profileId))];
    const found = await this.profiles.profiles(ids, signal);
    return records.map((r) => withProfile(r, found.get(r.profileId), traits));
  }

  private synced(destinationId: string, segmentId: string, last: SyncRecord, records: number) {
    return this.states.delivered(destinationId, segmentId, {
      at: this.clock.now(),
      eventId: last.eventId,
      ...(last.sequence !== undefined ? { sequence: Number(last.sequence) } : {}),
      records,
    });
  }

  private newRun(destinationId: string, segmentId: string, kind: SyncRunKind): SyncRun {
    return create(SyncRunSchema, {
      id: `run_${randomBytes(12).toString('base64url')}`,
      destinationId,
      segmentId,
      kind,
      status: SyncRunStatus.RUNNING,
      startedAt: timestampFromDate(this.clock.now()),
    });
  }

  private async finish(run: SyncRun, status: SyncRunStatus): Promise<void> {
    run.status = status;
    run.finishedAt = timestampFromDate(this.clock.now());
    await this.runs.save(run);
  }
}

const linkKey = (destinationId: string, segmentId: string) => `${destinationId}/${segmentId}`;

/** A queued record's key: the same transition queued again for the same link is one entry. */
export const queuedRecordId = (destinationId: string, segmentId: string, eventId: string) =>
  `${destinationId}/${segmentId}/${eventId}`;

function recordOf(transition: MembershipTransition): SyncRecord {
  return {
    eventId: transition.id,
    type: transition.kind === TransitionKind.EXITED ? 'exited' : 'entered',
    segmentId: transition.segmentId,
    profileId: transition.profileId,
    occurredAt: transition.occurredAt
      ? timestampDate(transition.occurredAt).toISOString()
      : new Date(0).toISOString(),
    sequence: transition.sequence.toString(),
  };
}
