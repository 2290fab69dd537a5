import type { TopicSpec } from '@shoal/contracts';
import type { Admin, ITopicConfig } from 'kafkajs';

/** Applies the deployment's prefix to catalogue names; the only place topic and group names are formed. */
export class TopicNames {
  constructor(private readonly prefix: string) {}

  of(spec: TopicSpec): string {
    return `${this.prefix}${spec.name}`;
  }

  /** Consumer groups share the prefix, so deployments on one cluster never share offsets. */
  group(groupId: string): string {
    return `${this.prefix}${groupId}`;
  }
}

/**
 * What topics Shoal creates accept above KAFKA_MAX_MESSAGE_BYTES: room for headers Shoal adds
 * (a dead letter's reason) and batch framing.
 */
export const TOPIC_HEADROOM_BYTES = 64 * 1024;

export interface TopicLayout {
  /** Overrides every spec's partition count (small clusters, tests). */
  readonly partitions?: number | undefined;
  readonly replicationFactor: number;
  readonly maxMessageBytes: number;
}

/** The topics to create for some specs: each with its dead-letter topic. */
export function withDeadLetters(specs: readonly TopicSpec[]): TopicSpec[] {
  const all = new Map<string, TopicSpec>();
  for (const spec of specs) {
    all.set(spec.name, spec);
    if (spec.deadLetter) all.set(spec.deadLetter.name, spec.deadLetter);
  }
  return [...all.values()];
}

export function topicConfig(spec: TopicSpec, names: TopicNames, layout: TopicLayout): ITopicConfig {
  return {
    topic: names.of(spec),
    numPartitions: layout.partitions ?? spec.partitions,
    replicationFactor: layout.replicationFactor,
    configEntries: [
      { name: 'cleanup.policy', value: spec.cleanupPolicy },
      { name: 'retention.ms', value: String(spec.retentionMs) },
      { name: 'max.message.bytes', value: String(layout.maxMessageBytes + TOPIC_HEADROOM_BYTES) },
    ],
  };
}

/**
 * Creates the missing topics (and their dead-letter topics). Idempotent and safe when several
 * services race to create the same topic: an existing topic is left as it is.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  names: TopicNames,
  layout: TopicLayout,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = withDeadLetters(specs).filter((spec) => !existing.has(names.of(spec)));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      topics: missing.map((spec) => topicConfig(spec, names, layout)),
      waitForLeaders: true,
    });
  } catch (error) {
    // another service created some of them between our list and create
    if (!String((error as Error).message).includes('already exists')) throw error;
  }
  return missing.map((spec) => names.of(spec));
}
