import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  type IngestRejection,
  IngestRejectionSchema,
  type UpstreamEvent,
  UpstreamEventSchema,
} from '@shoal/contracts';
import { CLOCK, type Clock, type DomainError, type Principal, Violations } from '@shoal/platform';
import { ProfileAccess } from '../profiles/profile-access';
import {
  UPSTREAM_RULES,
  type UpstreamRules,
  checkEncodedSize,
  checkProtobufEvent,
} from './upstream-event';
import { UPSTREAM_EVENTS, type UpstreamEventsPort } from './upstream-events.port';
import { UpstreamError } from './upstream.errors';

/** Most events in one Ingest request (or one message of an IngestStream). */
export const MAX_EVENTS_PER_REQUEST = 1_000;

/** What Ingest answers, collected over the batches of a call. */
export interface IngestOutcome {
  accepted: number;
  readonly rejected: IngestRejection[];
}

/**
 * Upstream events sent over gRPC: checked as records of the upstream topic are, and the good
 * ones appended to that topic, so they take the same path (and get the same effects) as events
 * upstream systems produce themselves. The refused ones are answered, not dead-lettered.
 */
@Injectable()
export class UpstreamIngestService {
  constructor(
    @Inject(UPSTREAM_RULES) private readonly rules: UpstreamRules,
    @Inject(UPSTREAM_EVENTS) private readonly upstream: UpstreamEventsPort,
    private readonly access: ProfileAccess,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Checks the caller may ingest at all, before any event is read. */
  mayIngest(principal: Principal): void {
    this.access.mayWrite(principal);
  }

  /**
   * Checks and appends one batch; `firstIndex` is its first event's position in the call, and
   * `outcome` collects the answer across the batches of a stream.
   */
  async ingest(
    events: readonly UpstreamEvent[],
    firstIndex: number,
    outcome: IngestOutcome,
  ): Promise<void> {
    if (events.length > MAX_EVENTS_PER_REQUEST)
      new Violations().add('events', `at most ${MAX_EVENTS_PER_REQUEST} per message`).throwIfAny();
    const receivedAt = this.clock.now();
    const accepted: UpstreamEvent[] = [];
    events.forEach((event, i) => {
      const index = firstIndex + i;
      const refuse = (error: DomainError) =>
        outcome.rejected.push(
          create(IngestRejectionSchema, {
            index,
            messageId: event.messageId,
            reason: error.reason,
            violations: [...error.violations],
          }),
        );
      const violations = checkProtobufEvent(event, receivedAt, this.rules);
      if (violations.length > 0) {
        refuse(UpstreamError.invalidEvent(violations));
        return;
      }
      const tooLarge = checkEncodedSize(
        event,
        toBinary(UpstreamEventSchema, event).length,
        this.rules,
      );
      if (tooLarge) {
        refuse(UpstreamError.tooLarge(tooLarge));
        return;
      }
      event.timestamp ??= timestampFromDate(receivedAt);
      accepted.push(event);
    });
    await this.upstream.append(accepted);
    outcome.accepted += accepted.length;
  }
}
