import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  type DeadLetter,
  type Destination,
  type DestinationLink,
  type RedeliverDeadLettersResponse,
  RedeliverDeadLettersResponseSchema,
  SkippedDeadLetterSchema,
  SyncMode,
  SyncRunKind,
} from '@shoal/contracts';
import { DomainError, type FieldViolation, LOGGER, type Principal } from '@shoal/platform';
import type { Logger } from 'pino';
import { SegmentAccessService } from '../segments/segment-access.service';
import type { SyncRecord } from './destination-kind';
import { DestinationError } from './destinations.errors';
import {
  type QueuedRecord,
  type StoredDeadLetter,
  SYNC_RUN_REPOSITORY,
  type SyncRunRepositoryPort,
} from './destinations.repository.port';
import { DestinationsService } from './destinations.service';
import { SyncService, queuedRecordId } from './sync.service';

/** Most dead letters one call names, or sends again when it names none. */
export const MAX_REDELIVERED_PER_CALL = 100;
/** A call naming no dead letters stops adding more past this many records (one always goes). */
export const MAX_REDELIVERED_RECORDS_PER_CALL = 10_000;
const MAX_ID_LENGTH = 200;

/**
 * Sends dead letters again once their receiver is fixed. A dead letter's records go back to its
 * link's queue where they stood (same event ids, their original queue positions, so before newer
 * records of the same profiles), and only then is the dead letter removed: a crash in between
 * leaves it listed with its records queued, and sending it again queues nothing twice (the queue
 * keys records by event id) — at worst a receiver sees an event id again, which it drops.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly destinations: DestinationsService,
    private readonly access: SegmentAccessService,
    private readonly sync: SyncService,
    @Inject(SYNC_RUN_REPOSITORY) private readonly runs: SyncRunRepositoryPort,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The named dead letters of a destination the caller owns, or (none named) its oldest ones that
   * can be sent again, bounded per call. Named ids that are not its dead letters are reported;
   * dead letters that cannot be sent again are skipped with the reason and stay listed.
   */
  async redeliver({
    destinationId,
    deadLetterIds,
    principal,
  }: {
    destinationId: string;
    deadLetterIds: readonly string[];
    principal: Principal;
  }): Promise<RedeliverDeadLettersResponse> {
    validate(destinationId, deadLetterIds);
    const destination = await this.destinations.get(destinationId, principal);
    const links = await this.linksOf(destination, principal);
    const open = [...links].flatMap(([segmentId, link]) =>
      typeof link === 'string' ? [] : [segmentId],
    );
    const named = [...new Set(deadLetterIds)];
    const chosen =
      named.length > 0
        ? await this.runs.deadLettersById(destination.id, named)
        : await this.runs.incrementalDeadLetters(destination.id, open, MAX_REDELIVERED_PER_CALL);
    const found = new Set(chosen.map(({ letter }) => letter.id));
    const answer = create(RedeliverDeadLettersResponseSchema, {
      notFoundIds: named.filter((id) => !found.has(id)),
    });
    for (const stored of chosen) {
      const { letter } = stored;
      const bounded = named.length === 0 && answer.redelivered > 0;
      if (bounded && answer.records + letter.records > MAX_REDELIVERED_RECORDS_PER_CALL) break;
      const link = linkFor(letter, links);
      const queued = typeof link === 'string' ? undefined : queuedAgain(destination.id, stored);
      if (typeof link === 'string' || !queued) {
        const reason =
          typeof link === 'string'
            ? link
            : 'its payload is not a list of entered / exited records of its segment';
        answer.skipped.push(create(SkippedDeadLetterSchema, { deadLetterId: letter.id, reason }));
        continue;
      }
      await this.sync.queueAgain(link, queued);
      await this.runs.removeDeadLetters([letter.id]);
      answer.redelivered += 1;
      answer.records += BigInt(queued.length);
    }
    answer.remaining = BigInt(await this.runs.countIncrementalDeadLetters(destination.id, open));
    this.logger.info(
      {
        destinationId: destination.id,
        redelivered: answer.redelivered,
        records: Number(answer.records),
        skipped: answer.skipped.length,
        remaining: Number(answer.remaining),
      },
      'dead letters queued again',
    );
    return answer;
  }

  /**
   * Each linked segment's link when its dead letters can go back to its queue, or why not:
   * only incremental links, of a segment the caller may still sync, that owe no full sync.
   */
  private async linksOf(
    destination: Destination,
    principal: Principal,
  ): Promise<Map<string, DestinationLink | string>> {
    const links = new Map<string, DestinationLink | string>();
    for (const link of destination.links) {
      const { segmentId } = link;
      if (link.mode !== SyncMode.INCREMENTAL) {
        links.set(
          segmentId,
          `segment ${segmentId} is now linked for full syncs: SyncNow sends its current members`,
        );
        continue;
      }
      const refusal =
        principal.kind === 'user' ? await this.refusal(segmentId, principal) : undefined;
      if (refusal !== undefined) {
        links.set(segmentId, refusal);
        continue;
      }
      const state = await this.sync.stateOf(destination.id, segmentId);
      links.set(
        segmentId,
        state?.fullSyncRequired
          ? `the link to segment ${segmentId} owes a full sync (its paused backlog overflowed), which sends every current member`
          : link,
      );
    }
    return links;
  }

  private async refusal(segmentId: string, principal: Principal): Promise<string | undefined> {
    try {
      await this.access.linkable(segmentId, principal);
      return undefined;
    } catch (error) {
      if (error instanceof DomainError) return error.message;
      throw error;
    }
  }
}

/** The link a dead letter goes back to, or why it cannot. */
function linkFor(
  letter: DeadLetter,
  links: ReadonlyMap<string, DestinationLink | string>,
): DestinationLink | string {
  if (letter.runKind === SyncRunKind.FULL)
    return `a page of full sync ${letter.runId}, whose member list is out of date: SyncNow sends the current members`;
  return (
    links.get(letter.segmentId) ??
    `segment ${letter.segmentId} is no longer linked to this destination`
  );
}

/**
 * Queue positions of a dead letter stored before positions were kept: ahead of every Kafka
 * partition (so of everything queued, all newer than the batch that failed), older dead letters
 * first — a partition of their own per millisecond of age — and in the payload's order within one.
 */
const UNPOSITIONED_BEFORE = -1e13;

/**
 * A dead letter's records as they are queued again: their identities and traits are read anew
 * when they are delivered, each where it stood in the queue (or, stored before positions were
 * kept, ahead of the queue by the dead letter's age).
 */
function queuedAgain(destinationId: string, { letter, positions }: StoredDeadLetter) {
  const records = transitionRecordsIn(letter.payload);
  if (!records || records.some((r) => r.segmentId !== letter.segmentId)) return undefined;
  const queuedAt = letter.deadLetteredAt ? timestampDate(letter.deadLetteredAt) : new Date(0);
  const kept = positions.length === records.length;
  return records.map((record, i): QueuedRecord => ({
    id: queuedRecordId(destinationId, record.segmentId, record.eventId),
    destinationId,
    segmentId: record.segmentId,
    partition: kept ? (positions[i]?.partition ?? 0) : UNPOSITIONED_BEFORE + queuedAt.getTime(),
    offset: kept ? (positions[i]?.offset ?? i) : i,
    record,
    queuedAt,
  }));
}

/** The entered / exited records of a dead letter's payload, without what delivery added. */
function transitionRecordsIn(payload: string): SyncRecord[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const records: SyncRecord[] = [];
  for (const item of parsed as Record<string, unknown>[]) {
    const { eventId, type, segmentId, profileId, occurredAt, sequence } = item ?? {};
    if (
      typeof eventId !== 'string' ||
      (type !== 'entered' && type !== 'exited') ||
      typeof segmentId !== 'string' ||
      typeof profileId !== 'string' ||
      typeof occurredAt !== 'string'
    )
      return undefined;
    records.push({
      eventId,
      type,
      segmentId,
      profileId,
      occurredAt,
      ...(typeof sequence === 'string' ? { sequence } : {}),
    });
  }
  return records;
}

function validate(destinationId: string, deadLetterIds: readonly string[]): void {
  const violations: FieldViolation[] = [];
  if (!destinationId) violations.push({ field: 'destinationId', description: 'is required' });
  if (deadLetterIds.length > MAX_REDELIVERED_PER_CALL)
    violations.push({
      field: 'deadLetterIds',
      description: `at most ${MAX_REDELIVERED_PER_CALL} per call (none: the oldest, ${MAX_REDELIVERED_PER_CALL} at a time)`,
    });
  else
    deadLetterIds.forEach((id, i) => {
      if (!id || id.length > MAX_ID_LENGTH)
        violations.push({
          field: `deadLetterIds[${i}]`,
          description: `a dead letter id of 1–${MAX_ID_LENGTH} characters`,
        });
    });
  if (violations.length > 0) throw DestinationError.invalid(violations);
}
