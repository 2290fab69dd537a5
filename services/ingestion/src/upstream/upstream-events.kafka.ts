import { Injectable } from '@nestjs/common';
import { type UpstreamEvent, upstreamEventsTopic } from '@shoal/contracts';
import { EventPublisher } from '@shoal/platform';
import type { UpstreamEventsPort } from './upstream-events.port';

/** Events accepted over gRPC go where upstream systems send theirs: one path for both. */
@Injectable()
export class KafkaUpstreamEvents implements UpstreamEventsPort {
  constructor(private readonly publisher: EventPublisher) {}

  async append(events: readonly UpstreamEvent[]): Promise<void> {
    await this.publisher.publish(
      upstreamEventsTopic,
      events.map((event) => ({ key: event.userId || event.anonymousId, value: event })),
    );
  }
}
