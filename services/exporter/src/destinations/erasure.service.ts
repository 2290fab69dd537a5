import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock, LOGGER } from '@shoal/platform';
import type { Logger } from 'pino';
import { subjectsOf, withoutProfiles } from './dead-letter-payload';
import {
  ERASURE_REPOSITORY,
  type ErasureRepositoryPort,
  LINK_STATE_REPOSITORY,
  type LinkStateRepositoryPort,
  SYNC_RUN_REPOSITORY,
  type StoredDeadLetter,
  type SyncRunRepositoryPort,
} from './destinations.repository.port';

/**
 * How long after an erasure a record read for delivery may still hold what was erased: ingestion
 * deletes a profile only after publishing its erasure, and another ingestion instance may answer
 * for it until its next checkpoint.
 */
export const ERASURE_GRACE_MS = 5 * 60_000;
/** A rewrite that lost to another (a second erasure, a redelivery) is read and tried again. */
const REWRITE_TRIES = 5;

/**
 * What the exporter keeps about a person goes when they are erased: their records in dead
 * letters (their id, identities and traits), and a full sync's last record naming them in a
 * link's sync state. The erasure is recorded first, durably, so a dead letter written later —
 * its records read before the erasure, delivered and refused after it — leaves the erased out
 * before it is written, and is looked at again after: the writer stores the letter and then
 * looks for erasures, the erasure is stored and then looks for letters, so one of the two always
 * sees the other. Applying an erasure again finds nothing more to take.
 *
 * Records still queued for delivery stay: they hold only the profile id and the membership change
 * (identities and traits are read when they are delivered, and an erased profile has none), and
 * the exits membership publishes for the erasure must reach destinations so they forget the
 * person too.
 */
@Injectable()
export class ErasureService {
  constructor(
    @Inject(ERASURE_REPOSITORY) private readonly erasures: ErasureRepositoryPort,
    @Inject(SYNC_RUN_REPOSITORY) private readonly runs: SyncRunRepositoryPort,
    @Inject(LINK_STATE_REPOSITORY) private readonly states: LinkStateRepositoryPort,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Forgets the erased profiles (idempotent: an erasure applied again changes nothing). */
  async erase(profileIds: readonly string[]): Promise<void> {
    const ids = [...new Set(profileIds)].filter((id) => id !== '');
    if (ids.length === 0) return;
    await this.erasures.record(ids, this.clock.now());
    const erased = new Set(ids);
    let letters = 0;
    for (const stored of await this.runs.deadLettersOfProfiles(ids))
      if (await this.scrub(stored, erased)) letters++;
    await this.states.forgetProfiles(ids);
    // the ids themselves are what was erased: counted, never logged
    this.logger.info({ profiles: ids.length, deadLetters: letters }, 'erased profiles forgotten');
  }

  /**
   * Stores a dead letter of records read at `readAt` (or later). Records of profiles already
   * erased are left out before it is written, so they never reach the store; a letter of nothing
   * else is not written at all. An erasure recorded while it is written is caught by looking
   * again afterwards ({@link deadLettered}).
   */
  async deadLetter(stored: StoredDeadLetter, readAt: Date): Promise<void> {
    const erased = await this.erasedSince(stored, readAt);
    const scrubbed = erased.size > 0 ? withoutProfiles(stored, erased) : undefined;
    if (scrubbed?.outcome === 'emptied') {
      this.logger.info(
        { deadLetterId: stored.letter.id },
        'dead letter not kept: it held only erased profiles',
      );
      return;
    }
    const written = scrubbed?.outcome === 'rewritten' ? scrubbed.stored : stored;
    await this.runs.deadLetter(written.letter, written.positions);
    await this.deadLettered(written, readAt);
  }

  /**
   * A dead letter was just written from records read at `readAt` (or later): records of profiles
   * erased since shortly before they were read come out of it.
   */
  async deadLettered(stored: StoredDeadLetter, readAt: Date): Promise<void> {
    const erased = await this.erasedSince(stored, readAt);
    if (erased.size > 0 && (await this.scrub(stored, erased)))
      this.logger.info(
        { deadLetterId: stored.letter.id },
        'erased profiles taken out of a new dead letter',
      );
  }

  /** The letter's profiles erased since shortly before its records were read. */
  private async erasedSince(stored: StoredDeadLetter, readAt: Date): Promise<Set<string>> {
    const erasedAt = await this.erasures.erasedAt(subjectsOf(stored.letter.payload));
    return new Set(
      [...erasedAt]
        .filter(([, at]) => readAt.getTime() <= at.getTime() + ERASURE_GRACE_MS)
        .map(([id]) => id),
    );
  }

  /** Takes the profiles' records out of a dead letter; true when it changed. */
  private async scrub(first: StoredDeadLetter, erased: ReadonlySet<string>): Promise<boolean> {
    let stored: StoredDeadLetter | undefined = first;
    for (let tries = 0; stored && tries < REWRITE_TRIES; tries++) {
      const scrubbed = withoutProfiles(stored, erased);
      if (scrubbed.outcome === 'unchanged') return false;
      if (scrubbed.outcome === 'emptied') {
        await this.runs.removeDeadLetters([stored.letter.id]);
        return true;
      }
      if (await this.runs.rewriteDeadLetter(scrubbed.stored)) return true;
      [stored] = await this.runs.deadLettersById(stored.letter.destinationId, [stored.letter.id]);
    }
    if (stored) throw new Error(`dead letter ${stored.letter.id} kept changing while erasing`);
    return false;
  }
}
