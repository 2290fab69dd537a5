import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromBinary } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import {
  MembershipTransitionSchema,
  TransitionKind as Kind,
  type TopicSpec,
} from '@shoal/contracts';
import { TopicNames } from '@shoal/platform';
import { type Consumer, type IHeaders, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import type { SeenTransition } from './compare';

/** A transition as it arrived, with when it happened and when the drills read it. */
export interface ObservedTransition extends SeenTransition {
  readonly occurredAtMs: number;
  readonly consumedAtMs: number;
}

/** A record read from a topic, with its position. */
export interface TopicRecord {
  readonly partition: number;
  readonly message: KafkaMessage;
}

/** Kafka access for the drills: the run's topic names, patient with a broker that restarts. */
export class DrillKafka {
  readonly kafka: Kafka;
  readonly names: TopicNames;

  constructor(brokers: string[], prefix: string) {
    this.kafka = new Kafka({
      clientId: 'shoal-drills',
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 1_000, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.names = new TopicNames(prefix);
  }

  /**
   * Follows `shoal.membership.changes` from the beginning for as long as the drills run (kafkajs
   * restarts it after a broker outage). A record that is not a transition (the poison drill puts
   * some there) is counted, not kept.
   */
  async followTransitions(
    segmentNames: ReadonlyMap<string, string>,
    topic: TopicSpec,
  ): Promise<TransitionFollower> {
    const follower = new TransitionFollower(segmentNames);
    const consumer = this.kafka.consumer({
      groupId: `drills-${randomBytes(4).toString('hex')}`,
      retry: { retries: 1_000, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.names.of(topic), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        follower.add(message);
      },
    });
    follower.consumer = consumer;
    return follower;
  }

  /** Every record of a topic up to its current end, read by a consumer group of its own. */
  async readToEnd(topic: TopicSpec, timeoutMs = 60_000): Promise<TopicRecord[]> {
    const name = this.names.of(topic);
    const admin = this.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(name).finally(() => admin.disconnect());
    const end = new Map(offsets.map((p) => [p.partition, Number(p.high)]));
    const remaining = new Set(
      offsets.filter((p) => Number(p.high) > Number(p.low)).map((p) => p.partition),
    );
    const records: TopicRecord[] = [];
    if (remaining.size === 0) return records;
    const consumer = this.kafka.consumer({
      groupId: `drills-reader-${randomBytes(4).toString('hex')}`,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: name, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`read ${records.length} records of ${name} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            const last = (end.get(partition) ?? 0) - 1;
            if (Number(message.offset) <= last) records.push({ partition, message });
            if (Number(message.offset) >= last) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return records;
  }
}

/** Decodes transitions as they arrive; keeps them in arrival order. */
export class TransitionFollower {
  readonly transitions: ObservedTransition[] = [];
  /** Records on the topic that are not transitions (the poison drill's). */
  undecodable = 0;
  consumer?: Consumer;

  constructor(private readonly segmentNames: ReadonlyMap<string, string>) {}

  add(message: KafkaMessage): void {
    const decoded = decodeTransition(message, this.segmentNames);
    if (decoded === undefined) this.undecodable += 1;
    else this.transitions.push({ ...decoded, consumedAtMs: Date.now() });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

/** A transition record in the drills' terms, or undefined when it is not one. */
export function decodeTransition(
  message: KafkaMessage,
  segmentNames: ReadonlyMap<string, string>,
): Omit<ObservedTransition, 'consumedAtMs'> | undefined {
  try {
    const t = fromBinary(MembershipTransitionSchema, message.value ?? Buffer.alloc(0));
    if (t.id === '') return undefined;
    return {
      id: t.id,
      profileId: t.profileId,
      segment: segmentNames.get(t.segmentId) ?? t.segmentId,
      sequence: Number(t.sequence),
      kind: t.kind === Kind.ENTERED ? 'entered' : 'exited',
      occurredAtMs: t.occurredAt ? timestampMs(t.occurredAt) : 0,
    };
  } catch {
    return undefined;
  }
}

export function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString();
}

/** The drills' webhook destination: records every incremental record's event id. */
export class WebhookReceiver {
  readonly eventIds: string[] = [];
  requests = 0;
  private readonly server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      this.requests += 1;
      try {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as {
          full?: boolean;
          records?: { eventId?: string }[];
        };
        if (!body.full)
          for (const r of body.records ?? []) if (r.eventId) this.eventIds.push(r.eventId);
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/drills`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
