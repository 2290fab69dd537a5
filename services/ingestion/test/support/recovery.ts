import { ProfileService, upstreamEventsTopic } from '@shoal/contracts';
import type { RunningService } from '@shoal/platform';
import { type TestScope, eventually, httpGet } from '@shoal/testing';
import { Kafka, logLevel } from 'kafkajs';

export interface Readiness {
  ready: boolean;
  dependencies: { name: string; ready: boolean; detail: string }[];
}

/** The service's /readyz: its status code and what it says of each dependency. */
export async function readiness(
  service: RunningService,
): Promise<{ status: number; body: Readiness }> {
  const response = await httpGet(service.httpPort, '/readyz');
  return { status: response.status, body: JSON.parse(response.body) as Readiness };
}

/**
 * After an outage: an identify sent upstream through `broker` ends in the profile ingestion
 * serves (the traits it carried), waiting up to 2 minutes for it.
 */
export async function expectIngestedAfterRecovery(
  scope: TestScope,
  ingestion: RunningService,
  broker: string,
  event: { userId: string; messageId: string },
): Promise<void> {
  const kafka = new Kafka({ clientId: 'recovery', brokers: [broker], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: scope.topicName(upstreamEventsTopic),
    messages: [
      {
        key: event.userId,
        value: JSON.stringify({
          type: 'identify',
          messageId: event.messageId,
          userId: event.userId,
          traits: { back: true },
        }),
      },
    ],
  });
  await producer.disconnect();
  const profiles = scope.client(
    ProfileService,
    ingestion,
    await scope.token({ subject: 'service:membership', service: 'membership' }),
  );
  const { profile } = await eventually(
    () => profiles.getProfile({ profileId: `user:${event.userId}` }),
    120_000,
  );
  expect(profile?.traits).toEqual({ back: true });
}
