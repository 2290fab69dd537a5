import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  DeadLetterSchema,
  type Destination,
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
import { MEMBER_SOURCE, type MemberSource } from '../peers/peers.ports';
import { SegmentDefinitions } from '../segments/segment-definitions';
import { type DeliveryBatch, DeliveryFailure, type SyncRecord } from './destination-kind';
import { DESTINATION_KINDS, type DestinationKinds } from './destination-kinds';
import {
  DESTINATION_REPOSITORY,
  type DestinationRepositoryPort,
  type QueuedRecord,
  REFRESH_JOB_REPOSITORY,
  type RefreshJobRepositoryPort,
  SYNC_QUEUE,
  SYNC_RUN_REPOSITORY,
  type SyncQueuePort,
  type SyncRunRepositoryPort,
} from './destinations.repository.port';
import { type RetrySchedule, delayBeforeRetry } from './retry-schedule';

/** How syncing runs: retry waits, and how long a partial batch may wait for more records. */
export interface SyncSettings {
  readonly retry: RetrySchedule;
  /** A batch smaller than the destination's batch size is sent once its oldest record is this old. */
  readonly maxBatchWaitMs: number;
  /** Most destinations read when routing transitions. */
  readonly maxDestinations: number;
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
    @Inject(DESTINATION_KINDS) private readonly kinds: DestinationKinds,
    @Inject(MEMBER_SOURCE) private readonly members: MemberSource,
    private readonly definitions: SegmentDefinitions,
    @Inject(SYNC_SETTINGS) private readonly settings: SyncSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Destinations whose queues the dispatcher drains. */
  all(): Promise<Destination[]> {
    return this.destinations.list(undefined, this.settings.maxDestinations);
  }

  /** Queues each transition for every destination with an auto-syncing incremental link to its segment. */
  async enqueue(consumed: readonly ConsumedTransition[]): Promise<void> {
    if (consumed.length === 0) return;
    const routes = new Map<string, string[]>();
    for (const destination of await this.all()) {
      for (const link of destination.links) {
        if (!link.autoSync || link.mode !== SyncMode.INCREMENTAL) continue;
        routes.set(link.segmentId, [...(routes.get(link.segmentId) ?? []), destination.id]);
      }
    }
    const queuedAt = this.clock.now();
    const records: QueuedRecord[] = consumed.flatMap(({ transition, partition, offset }) =>
      (routes.get(transition.segmentId) ?? []).map((destinationId) => ({
        id: `${destinationId}/${transition.segmentId}/${transition.id}`,
        destinationId,
        segmentId: transition.segmentId,
        partition,
        offset,
        record: recordOf(transition),
        queuedAt,
      })),
    );
    await this.queue.enqueue(records);
  }

  /**
   * Delivers what is queued for one destination's auto-syncing incremental links, batch by
   * batch, until the queues are empty (or hold only a young partial batch).
   */
  async drain(destination: Destination, signal: AbortSignal): Promise<void> {
    const { kind, value } = this.kinds.of(destination.config);
    const batchSize = kind.batchSize(value as never);
    if (!kind.incremental) return;
    for (const link of destination.links) {
      if (!link.autoSync || link.mode !== SyncMode.INCREMENTAL) continue;
      while (!signal.aborted) {
        const pending = await this.queue.pending(destination.id, link.segmentId, batchSize);
        if (pending.length === 0) break;
        const oldest = Math.min(...pending.map((p) => new Date(p.queuedAt).getTime()));
        const young = this.clock.now().getTime() - oldest < this.settings.maxBatchWaitMs;
        if (pending.length < batchSize && young) break;
        const run = this.newRun(destination.id, link.segmentId, SyncRunKind.INCREMENTAL);
        const delivered = await this.deliver(
          destination,
          run,
          pending.map((p) => p.record),
          signal,
        );
        if (!delivered && signal.aborted) return;
        await this.queue.remove(pending.map((p) => p.id));
      }
    }
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
    await this.runs.save(run);
    const snapshot = kind.openSnapshot
      ? await kind.openSnapshot(value as never, {
          destinationId: destination.id,
          segmentId,
          runId: run.id,
        })
      : undefined;
    let failed = false;
    try {
      const segment = this.definitions.get(segmentId);
      if (!segment) throw new Error(`segment ${segmentId} is not known (deleted?)`);
      for await (const ids of this.members.pages(segment, batchSize, signal)) {
        const at = this.clock.now().toISOString();
        const records: SyncRecord[] = ids.map((profileId) => ({
          eventId: `${run.id}:${profileId}`,
          type: 'member',
          segmentId,
          profileId,
          occurredAt: at,
        }));
        if (snapshot) {
          await snapshot.write(records);
          run.records += BigInt(records.length);
        } else {
          failed = !(await this.deliver(destination, run, records, signal, false)) || failed;
        }
      }
      await snapshot?.commit();
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
   * refused for good), the batch becomes a dead letter. `finishRun` ends the run with the
   * batch (incremental runs are one batch each).
   */
  private async deliver(
    destination: Destination,
    run: SyncRun,
    records: readonly SyncRecord[],
    signal: AbortSignal,
    finishRun = true,
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
    await this.runs.deadLetter(
      create(DeadLetterSchema, {
        id: `${run.id}/${run.failures}`,
        destinationId: destination.id,
        runId: run.id,
        payload: JSON.stringify(records),
        records: BigInt(records.length),
        error: run.error,
        attempts: attempt,
        deadLetteredAt: timestampFromDate(this.clock.now()),
      }),
    );
    this.logger.error(
      { destinationId: destination.id, runId: run.id, attempts: attempt, error: run.error },
      'delivery gave up; batch dead-lettered',
    );
    if (finishRun) await this.finish(run, SyncRunStatus.FAILED);
    return false;
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
