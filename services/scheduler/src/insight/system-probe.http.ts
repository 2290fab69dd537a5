import { Inject, Injectable } from '@nestjs/common';
import {
  type TopicSpec,
  listMembershipTopic,
  membershipChangesTopic,
  profileChangesTopic,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { LOGGER, type Logger, TopicNames } from '@shoal/platform';
import { Kafka } from 'kafkajs';
import { consumerLag } from '../jobs/consumer-lag';
import type { LagAnswer, ReadinessAnswer, SystemProbePort } from './system-probe.port';

export const READINESS_URLS = Symbol('ReadinessUrls');

const READINESS_TIMEOUT_MS = 2_000;
const DETAIL_MAX = 500;

/** The consumer groups Shoal commits offsets for, and what they consume. */
const GROUPS: readonly { group: string; topics: readonly TopicSpec[] }[] = [
  { group: 'ingestion', topics: [upstreamEventsTopic] },
  { group: 'membership', topics: [profileChangesTopic, listMembershipTopic] },
  { group: 'scheduler-churn', topics: [membershipChangesTopic] },
];

/** Readiness over each service's /readyz (HTTP), lag from the broker's committed offsets. */
@Injectable()
export class HttpSystemProbe implements SystemProbePort {
  constructor(
    @Inject(READINESS_URLS) private readonly urls: ReadonlyMap<string, string>,
    private readonly kafka: Kafka,
    private readonly names: TopicNames,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async readiness(): Promise<ReadinessAnswer[]> {
    return Promise.all(
      [...this.urls].map(async ([service, url]) => {
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(READINESS_TIMEOUT_MS) });
          const body = (await response.text()).slice(0, DETAIL_MAX);
          return { service, ready: response.ok, detail: body };
        } catch (error) {
          return { service, ready: false, detail: `${url}: ${(error as Error).message}` };
        }
      }),
    );
  }

  async consumerLag(): Promise<LagAnswer[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // a topic that does not exist (a service never started) must not be asked about: kafkajs
      // keeps it among the topics it refreshes metadata for, and every later call would fail
      const existing = new Set(await admin.listTopics());
      const answers: LagAnswer[] = [];
      for (const { group, topics } of GROUPS) {
        for (const topic of topics) {
          const name = this.names.of(topic);
          if (!existing.has(name)) continue;
          try {
            const lag = await consumerLag(admin, this.names.group(group), name);
            answers.push({ group, topic: name, ...lag });
          } catch (error) {
            this.logger.warn({ err: error, group, topic: name }, 'consumer lag unknown');
          }
        }
      }
      return answers;
    } finally {
      await admin.disconnect();
    }
  }
}
