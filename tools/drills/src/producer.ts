import { upstreamEventsTopic } from '@shoal/contracts';
import type { Kafka, Producer } from 'kafkajs';
import type { TopicNames } from '@shoal/platform';
import type { EventStream, StreamEvent } from './workload';

/**
 * Sends the stream upstream at a steady rate, as an upstream system would: every tick the events
 * due are generated (stamped with the time, strictly increasing) and queued; the queue is sent in
 * order, one request at a time, and what a failed request held is sent again (same messageIds)
 * until the broker takes it, so an outage delays events but never drops or reorders them.
 */
export class SteadyProducer {
  /** Every event generated, in order: the oracle's input. */
  readonly sent: StreamEvent[] = [];
  failedSends = 0;
  private readonly queue: StreamEvent[] = [];
  private producer?: Producer;
  private timer?: NodeJS.Timeout;
  private sending = false;
  private lastStamp = 0;
  private startedAt = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
    private readonly stream: EventStream,
    private readonly ratePerSecond: number,
  ) {}

  async start(): Promise<void> {
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await this.producer.connect();
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.tick(), 100);
  }

  /** Stops generating and resolves once everything generated was sent. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.queue.length > 0 || this.sending) {
      if (!this.sending) void this.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.producer?.disconnect();
  }

  get pending(): number {
    return this.queue.length;
  }

  private tick(): void {
    const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.ratePerSecond);
    while (this.stream.count < due) {
      this.lastStamp = Math.max(this.lastStamp + 1, Date.now());
      const event = this.stream.next(this.lastStamp);
      this.sent.push(event);
      this.queue.push(event);
    }
    if (!this.sending) void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.producer === undefined || this.queue.length === 0) return;
    this.sending = true;
    const batch = this.queue.slice(0, 1_000);
    try {
      await this.producer.send({
        topic: this.names.of(upstreamEventsTopic),
        acks: -1,
        timeout: 10_000,
        messages: batch.map((e) => ({ key: e.key, value: JSON.stringify(e.body) })),
      });
      this.queue.splice(0, batch.length);
    } catch {
      this.failedSends += 1;
    } finally {
      this.sending = false;
    }
  }
}
