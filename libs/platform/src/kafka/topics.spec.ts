import { upstreamEventsTopic } from '@shoal/contracts';
import { TopicNames, topicConfig, withDeadLetters } from './topics';

describe('topics', () => {
  it('adds each topic’s dead-letter topic once', () => {
    expect(withDeadLetters([upstreamEventsTopic, upstreamEventsTopic]).map((t) => t.name)).toEqual([
      'shoal.upstream.events',
      'shoal.upstream.events.dlq',
    ]);
  });

  it('prefixes names and applies the layout', () => {
    const config = topicConfig(upstreamEventsTopic, new TopicNames('staging.'), {
      partitions: 3,
      replicationFactor: 1,
      maxMessageBytes: 1000,
    });
    expect(config).toMatchObject({
      topic: 'staging.shoal.upstream.events',
      numPartitions: 3,
      replicationFactor: 1,
    });
    expect(config.configEntries).toContainEqual({ name: 'cleanup.policy', value: 'delete' });
  });

  it('keeps the catalogue’s partition count unless overridden', () => {
    const config = topicConfig(upstreamEventsTopic, new TopicNames(''), {
      replicationFactor: 1,
      maxMessageBytes: 1000,
    });
    expect(config.numPartitions).toBe(upstreamEventsTopic.partitions);
  });
});
