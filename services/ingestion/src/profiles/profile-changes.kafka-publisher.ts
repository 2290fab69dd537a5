import { Injectable } from '@nestjs/common';
import { type ProfileChange, profileChangesTopic } from '@shoal/contracts';
import { EventPublisher } from '@shoal/platform';
import type { ProfileChangePublisherPort } from './profile-changes.publisher.port';

/** Profile changes on shoal.profiles.changes, keyed by subject (in order per subject). */
@Injectable()
export class KafkaProfileChangePublisher implements ProfileChangePublisherPort {
  constructor(private readonly publisher: EventPublisher) {}

  async publish(changes: readonly ProfileChange[]): Promise<void> {
    await this.publisher.publish(
      profileChangesTopic,
      changes.map((change) => ({ key: change.subjectId, value: change })),
    );
  }
}
