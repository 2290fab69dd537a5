// The platform's real-infrastructure tests live beside the harness they need (the platform
// itself cannot depend on @shoal/testing without a cycle).
import type { TopicSpec } from '@shoal/contracts';
import { EventPublisher, Metrics, SecretMask, TopicNames, createLogger } from '@shoal/platform';
import { TestScope } from '../src';

const smallRecordsTopic: TopicSpec<null> = {
  name: 'platform.test.small-records',
  description: 'a topic whose broker limit is below what the publisher allows',
  payload: null,
  key: 'anything',
  encodings: ['raw'],
  partitions: 2,
  retentionMs: 3_600_000,
  cleanupPolicy: 'delete',
};

describe('event publisher', () => {
  const scope = new TestScope();
  const names = new TopicNames(scope.topicPrefix);
  const logger = createLogger({
    service: 'publisher-test',
    version: '0',
    level: 'silent',
    secrets: new SecretMask(),
  });
  let publisher: EventPublisher;

  beforeAll(async () => {
    const admin = scope.kafka().admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: names.of(smallRecordsTopic),
          numPartitions: 2,
          configEntries: [{ name: 'max.message.bytes', value: '20000' }],
        },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    publisher = new EventPublisher(
      scope.kafka(),
      names,
      1024 * 1024,
      logger,
      new Metrics('publisher-test'),
    );
    await publisher.connect();
  });
  afterAll(async () => {
    await publisher.disconnect();
    await scope.close();
  });

  it('keeps publishing every record after the broker refused part of a send', async () => {
    // partition 0 takes its records, partition 1 refuses its too-large one: the send fails
    await expect(
      publisher.publishRaw(smallRecordsTopic, [
        { key: 'a', value: 'one', partition: 0 },
        { key: 'b', value: 'two', partition: 0 },
        { key: 'c', value: 'x'.repeat(30_000), partition: 1 },
      ]),
    ).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    // later records on the partition that took its part are neither refused nor dropped
    await publisher.publishRaw(smallRecordsTopic, [{ key: 'd', value: 'three', partition: 0 }]);
    await publisher.publishRaw(smallRecordsTopic, [
      { key: 'e', value: 'four', partition: 0 },
      { key: 'f', value: 'five', partition: 0 },
    ]);
    const records = await scope.readTopicToEnd(smallRecordsTopic);
    expect(records.map((r) => r.value?.toString())).toEqual([
      'one',
      'two',
      'three',
      'four',
      'five',
    ]);
  });
});
